"""The key of the contact-field hash, and the hash itself.

The key is ``WAREHOUSE__PII_KEY`` (environment or ``.dlt/secrets.toml`` ``[warehouse] pii_key``) when set;
otherwise a random key in a file beside the working DuckDB file (``<working file>.pii-key``), created once with
permissions 0600 and read by every later run. The same key must be used for as long as the warehouse lives:
a new key makes new hashes, and the same customer would no longer join across loads. Back the key file up
with the working file; the key is never printed or logged.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

import dlt

from pipelines.errors import UserError

KEY_VARIABLE = "WAREHOUSE__PII_KEY"
KEY_FILE_SUFFIX = ".pii-key"
HASH_PREFIX = "pii:"  # hashed contact values read pii:<20 hex digits>
HASH_HEX_DIGITS = 20  # 80 bits: no collision in any realistic number of contacts
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")


def pii_key(working: Path) -> bytes:
    """``WAREHOUSE__PII_KEY``, else the key file beside ``working`` (created the first time)."""
    configured = dlt.secrets.get("warehouse.pii_key")
    if configured not in (None, ""):
        value = str(configured)
        if len(value) < 16:
            raise UserError(f"{KEY_VARIABLE} is too short: use at least 16 characters (e.g. 32 random hex digits)")
        return value.encode()
    path = key_file(working)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()


def key_file(working: Path) -> Path:
    return working.with_name(working.name + KEY_FILE_SUFFIX)


def normalize_contact(value: str) -> str:
    """The form two spellings of one contact share: e-mail addresses trimmed and lower-cased, phone numbers as
    their digits only (``+48 600-700-800`` and ``48600700800`` are one contact), anything else trimmed."""
    value = value.strip()
    if "@" in value:
        return value.lower()
    if _PHONE_LIKE.match(value) and sum(char.isdigit() for char in value) >= 7:
        return re.sub(r"\D", "", value)
    return value


def contact_hash(value: object, key: bytes) -> str:
    """``pii:`` and the keyed BLAKE2b hash of the normalized value (a MAC: without the key, a list of likely
    e-mail addresses or phone numbers cannot be hashed to find who is who), 80 bits as 20 hex digits."""
    mac_key = key if len(key) <= hashlib.blake2b.MAX_KEY_SIZE else hashlib.sha256(key).digest()
    digest = hashlib.blake2b(normalize_contact(str(value)).encode(), key=mac_key, digest_size=HASH_HEX_DIGITS // 2)
    return HASH_PREFIX + digest.hexdigest()
