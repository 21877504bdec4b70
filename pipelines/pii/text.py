"""Finding and masking e-mail addresses, phone numbers and payment-card numbers inside free text.

Three passes, most specific first, each replacing what it finds with a placeholder:

1. ``[card]``: 13-19 digits (single spaces or dashes between groups) that pass the Luhn check and start like a
   card scheme (2-6: Mir/Mastercard, Amex/Diners/JCB, Visa, Mastercard/Maestro, Discover/UnionPay/Maestro);
2. ``[email]``: ``local@domain.tld`` (Unicode letters allowed, the top-level domain two letters or more);
3. ``[phone]``: a run of 7-15 digits (with ``+``, spaces, dots, dashes, slashes, brackets between) that
   ``phonenumbers`` finds valid as written (``+...``), in one of :data:`~pipelines.pii.rules.PHONE_REGIONS`, or as
   an international number written without its ``+``; dates (``2024-05-01``, ``01.05.2024``) are never phones.

:data:`CANDIDATE` is the cheap test that comes first (an ``@`` or 7+ digits close together): text without a
match is returned as it is, and Arrow columns use the same pattern (RE2) to pick the values worth the passes.
"""

from __future__ import annotations

import functools
import re

import phonenumbers

from pipelines.pii.rules import PHONE_REGIONS

EMAIL_MASK, PHONE_MASK, CARD_MASK = "[email]", "[phone]", "[card]"
# an "@", or 7+ digits with at most three separator characters between neighbours (both Python re and RE2)
CANDIDATE_PATTERN = r"@|[0-9](?:[ \t().\-/]{0,3}[0-9]){6,}"
CANDIDATE = re.compile(CANDIDATE_PATTERN)
_CARD = re.compile(r"(?<![\w.,+])(?<!\d[ -])(?:\d[ -]?){12,18}\d(?![\w]|[ -]\d|[.,]\d)")
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
_PHONE = re.compile(r"(?<![\w+])(?<!\d[ .\-/])\+?\(?\d(?:[ \t().\-/]{0,3}\d){6,16}(?!\w|[ .\-/]\d)")
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
_CARD_PREFIXES = ("2", "3", "4", "5", "6")


def mask_text(text: str) -> str:
    """``text`` with every card number, e-mail address and phone number replaced by its placeholder."""
    if not CANDIDATE.search(text):
        return text
    text = _CARD.sub(_card, text)
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(_phone, text)


def luhn(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def is_phone(candidate: str) -> bool:
    """Whether ``candidate`` (one digit run with its separators) is a valid phone number."""
    compact = candidate.strip()
    if _DATE.match(compact):
        return False
    digits = re.sub(r"\D", "", compact)
    if compact.startswith("+"):
        return _valid(compact, None)
    if any(_valid(compact, region) for region in PHONE_REGIONS):
        return True
    return 11 <= len(digits) <= 15 and _valid("+" + digits, None)


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and digits.startswith(_CARD_PREFIXES) and luhn(digits):
        return CARD_MASK
    return match.group(0)


def _phone(match: re.Match[str]) -> str:
    return PHONE_MASK if is_phone(match.group(0)) else match.group(0)


@functools.lru_cache(maxsize=65536)
def _valid(number: str, region: str | None) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, region))
    except phonenumbers.NumberParseException:
        return False
