"""Records a test places at exact times: on a partition's boundary second, written hours after their ``ts``.

``POST /__emulator/place`` with ``{"conversations": [spec, ...], "messages": [spec, ...]}`` (or
``ConpeekApi.place(...)``); a spec is ``{"ts": time, "written": time?, "conversation_id": str?}``:

* a time is the API's ``YYYY-MM-DD HH:mm:ss`` UTC string or epoch seconds;
* ``written`` is when the record was stored, the second its ObjectId carries (default: ``ts``); it must not
  be before ``ts`` (a record is never written before its event), so ``written - ts`` is its lateness;
* ``conversation_id`` (messages only) names the conversation a message belongs to (one already opened, as
  in the records' ``conversation_id``); by default a recent conversation opened at or before ``ts``.

Ids are minted in write order, each by a random writer, as the generator does. The dataset's "now" moves
forward to the latest ``written`` when that is later. Answers ``{"conversation_statistics_opened": [id, ...],
"messages": [id, ...], "now"}``, ids in the order of the specs.
"""

from __future__ import annotations

from typing import Any

from emulators.conpeek.data import ConpeekData, Row, format_ts
from emulators.conpeek.filters import FilterError, parse_time

TABLES = {"conversations": "conversation_statistics_opened", "messages": "messages"}


def to_seconds(value: Any, what: str) -> int:
    """``YYYY-MM-DD HH:mm:ss`` (UTC) or epoch seconds as epoch seconds; ``ValueError`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return parse_time(value, what)
    except FilterError as exc:
        raise ValueError(str(exc)) from None


def place(data: ConpeekData, *, conversations: list[dict[str, Any]] | None = None,
          messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Add the records of the specs (see the module docstring); returns their ids."""
    with data.lock:
        by_conversation = {entity[3]: e for e, entity in enumerate(data.entities)}
        conv_plans = [_times(spec, f"conversations[{n}]", set()) for n, spec in enumerate(conversations or [])]
        msg_plans = [_times(spec, f"messages[{n}]", {"conversation_id"}) for n, spec in enumerate(messages or [])]
        owners = [_owner(spec, f"messages[{n}]", by_conversation) for n, spec in enumerate(messages or [])]
        data.now = max([data.now, *(w for _, w in conv_plans), *(w for _, w in msg_plans)])
        pending: list[tuple[int, int, str, Row]] = []  # (written, position, table, row)
        for n, (ts, written) in enumerate(conv_plans):
            pending.append((written, n, "conversations", (ts, data.open_conversation(ts))))
        for n, ((ts, written), owner) in enumerate(zip(msg_plans, owners, strict=True)):
            if owner is None:
                owner = data.conversation_before(ts) if data.entities else data.open_conversation(ts)
            pending.append((written, n, "messages", data.message_row(ts, written, owner)))
        ids: dict[str, list[str]] = {name: [""] * count for name, count in
                                     (("conversations", len(conv_plans)), ("messages", len(msg_plans)))}
        for written, n, table, row in sorted(pending, key=lambda p: p[0]):
            oid = data.minter.mint(written, data.rng.randrange(data.minter.writers))
            (data.conversations if table == "conversations" else data.messages).insert(oid, row)
            ids[table][n] = oid
        return {**{TABLES[name]: values for name, values in ids.items()}, "now": format_ts(data.now)}


def _times(spec: Any, where: str, extra: set[str]) -> tuple[int, int]:
    """``(ts, written)`` of one spec, validated."""
    if not isinstance(spec, dict) or "ts" not in spec:
        raise ValueError(f"{where} must be an object with 'ts'")
    unknown = set(spec) - {"ts", "written"} - extra
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    ts = to_seconds(spec["ts"], f"{where}.ts")
    written = to_seconds(spec["written"], f"{where}.written") if spec.get("written") is not None else ts
    if written < ts:
        raise ValueError(f"{where}: written ({format_ts(written)}) is before ts ({format_ts(ts)})")
    return ts, written


def _owner(spec: dict[str, Any], where: str, by_conversation: dict[str, int]) -> int | None:
    """The conversation (entity index) a placed message names, ``None`` when it names none."""
    wanted = spec.get("conversation_id")
    if wanted is None:
        return None
    if wanted not in by_conversation:
        raise ValueError(f"{where}.conversation_id {wanted!r} is not a known conversation")
    return by_conversation[wanted]
