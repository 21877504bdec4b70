"""FiltersDto: strict validation and compilation into message, session and client predicates.

Every filter is validated against its ``type`` (exactly the fields that type allows). A set of keys has
semantics (see :data:`KEY_TYPES`); other valid keys are accepted and ignored. Filters are ANDed. A filter
works at one level (message, session or client) and is lifted to the level asked for: a session matches a
message-level filter when at least one of its messages does; a client matches session- or message-level
filters when one of its sessions does.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from emulators.jaicp import phrases as P
from emulators.jaicp.data import Dataset
from emulators.jaicp.errors import bad_filter

OLD_KEYS = frozenset((
    "SESSION_ID", "SESSION_START_TIME", "SESSION_END_TIME", "SESSION_LABELS", "SESSION_RESULT", "INITIATOR",
    "CALL_TASK_ID", "CHANNEL_TYPE", "BOT_ID", "CLIENT_ID_OR_NAME", "CLIENT_JOIN_TIME",
    "CLIENT_LAST_ACTIVITY_TIME", "MESSAGE_TYPE", "MESSAGE_TIME", "MESSAGE_TEXT", "ANSWER_TEXT",
    "MESSAGE_COUNT", "LOG_LABELS", "COMMENT_TEXT", "NLP_CLASS", "NLP_STATE", "INTENT",
    "TRANSFER_TO_OPERATOR", "WITHOUT_EMPTY_SESSIONS", "WITHOUT_EMPTY_MESSAGES", "CUSTOM_FIELDS_IN_RESPONSE",
    "EXCEPTION_EXISTENCE", "SESSION_DATA", "STATE_ROUTES",
))
NEW_KEYS = OLD_KEYS | frozenset((
    "MESSAGE_OR_ANSWER_TEXT", "TEXT_CAMPAIGN_ID", "TEXT_CAMPAIGN_RESULT", "SESSION_TOPIC",
    "SCENARIO_ACTION", "PERIOD", "CHANNEL_NAME", "BOT_REPLIES", "CLIENT_TYPE", "AUTOMATION_STATUS", "NPS",
    "WITHOUT_TEST_SESSIONS",
))

CHECKBOX_CMP = frozenset({"NOT_IMPORTANT", "NOT_EXISTS", "EXISTS", "CONTAINS", "NOT_CONTAINS"})
TEXT_CMP = frozenset({"NOT_IMPORTANT", "CONTAINS", "NOT_CONTAINS", "EQUALS"})
COMPOSITE_CMP = frozenset({"NOT_IMPORTANT", "CONTAINS", "NOT_CONTAINS", "EQUALS", "NOT_EQUALS", "STARTS_WITH",
                           "ENDS_WITH"})
YES_NO = frozenset({"YES", "NO", "NOT_IMPORTANT"})
TRANSFER = frozenset({"ANY", "WITH_TRANSFER", "WITHOUT_TRANSFER"})

#: type -> (required fields, optional fields); ``key`` and ``type`` are always required.
TYPE_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "DATE_TIME_RANGE": (frozenset(), frozenset({"from", "to"})),
    "NUMERIC_RANGE": (frozenset(), frozenset({"from", "to"})),
    "CHECKBOX": (frozenset({"options"}), frozenset({"comparisonType"})),
    "RADIO": (frozenset({"option"}), frozenset()),
    "TEXT": (frozenset({"values", "comparisonType"}), frozenset({"isCaseSensitive"})),
    "TREE": (frozenset({"options"}), frozenset({"comparisonType"})),
    "CUSTOM_FIELDS_IN_RESPONSE": (frozenset({"responseDataJsonPaths"}), frozenset()),
    "COMPOSITE_FILTER": (frozenset({"options"}), frozenset()),
}
_TIME_KEYS = ("MESSAGE_TIME", "SESSION_START_TIME", "SESSION_END_TIME", "CLIENT_JOIN_TIME",
              "CLIENT_LAST_ACTIVITY_TIME", "PERIOD")
#: The keys with semantics, and the types they take (other keys: any valid type, ignored).
KEY_TYPES: dict[str, frozenset[str]] = {
    **{key: frozenset({"DATE_TIME_RANGE"}) for key in _TIME_KEYS},
    "MESSAGE_COUNT": frozenset({"NUMERIC_RANGE"}),
    **{key: frozenset({"RADIO"}) for key in ("WITHOUT_EMPTY_SESSIONS", "WITHOUT_EMPTY_MESSAGES",
                                             "EXCEPTION_EXISTENCE", "WITHOUT_TEST_SESSIONS")},
    **{key: frozenset({"CHECKBOX"}) for key in ("CHANNEL_TYPE", "BOT_ID", "SESSION_LABELS")},
    "LOG_LABELS": frozenset({"CHECKBOX", "TREE"}),
    **{key: frozenset({"CHECKBOX", "TEXT"}) for key in ("SESSION_ID", "CLIENT_ID_OR_NAME", "SESSION_RESULT")},
    "TRANSFER_TO_OPERATOR": frozenset({"RADIO", "CHECKBOX"}),
    **{key: frozenset({"TEXT"}) for key in ("MESSAGE_TEXT", "ANSWER_TEXT", "MESSAGE_OR_ANSWER_TEXT", "COMMENT_TEXT")},
    "CUSTOM_FIELDS_IN_RESPONSE": frozenset({"CUSTOM_FIELDS_IN_RESPONSE"}),
}
_DT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})")


def parse_datetime(value: Any, what: str = "date-time") -> int:
    """``yyyy-MM-ddTHH:mm:ss[.S{1,9}](Z|±hh:mm)`` as epoch ms (fraction truncated to ms); else a 400."""
    found = _DT.fullmatch(value) if isinstance(value, str) else None
    if not found:
        raise bad_filter(f"{what} must be formatted yyyy-MM-ddTHH:mm:ss.SSSZ, got {value!r}")
    y, mo, d, h, mi, s, frac, zone = found.groups()
    try:
        offset = timedelta(0) if zone == "Z" else (1 if zone[0] == "+" else -1) * timedelta(
            hours=int(zone[1:3]), minutes=int(zone[4:6]))
        moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC) - offset
    except ValueError as exc:
        raise bad_filter(f"{what} {value!r} is not a valid date-time: {exc}") from None
    millis = int((frac or "0")[:3].ljust(3, "0"))
    return int(moment.timestamp()) * 1000 + millis


def _number(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_filter(f"{what} must be a number or a numeric string, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise bad_filter(f"{what} must be a number or a numeric string, got {value!r}") from None
    if math.isnan(number):
        raise bad_filter(f"{what} must be a number, got {value!r}")
    return number


def _str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_filter(f"{what} must be a list of strings")
    return value


def _enum(value: Any, allowed: frozenset[str], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise bad_filter(f"{what} must be one of {', '.join(sorted(allowed))}, got {value!r}")
    return value


def validate(body: Any, *, v1: bool, extra_keys: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The filters of a FiltersDto body (``None``: no filters); raises a 400 ApiError when invalid."""
    if body is None:
        return []
    if not isinstance(body, dict):
        raise bad_filter("the body must be a FiltersDto object {\"filters\": [...]}")
    unknown = set(body) - {"filters"} - extra_keys
    if unknown:
        raise bad_filter(f"unknown FiltersDto field(s): {', '.join(sorted(unknown))}")
    filters = body.get("filters")
    if filters is None:
        return []
    if not isinstance(filters, list):
        raise bad_filter("filters must be a list")
    return [_validate_one(f, n, NEW_KEYS if v1 else OLD_KEYS) for n, f in enumerate(filters)]


def _validate_one(f: Any, n: int, keys: frozenset[str]) -> dict[str, Any]:
    where = f"filters[{n}]"
    if not isinstance(f, dict):
        raise bad_filter(f"{where} must be an object")
    key, ftype = f.get("key"), f.get("type")
    if key not in keys:
        raise bad_filter(f"{where}.key {key!r} is not a FilterKey")
    if ftype not in TYPE_FIELDS:
        raise bad_filter(f"{where}.type {ftype!r} is not one of {', '.join(TYPE_FIELDS)}")
    if key in KEY_TYPES and ftype not in KEY_TYPES[key]:
        raise bad_filter(f"{where}: {key} takes type {' or '.join(sorted(KEY_TYPES[key]))}, not {ftype}")
    required, optional = TYPE_FIELDS[ftype]
    present = set(f) - {"key", "type"}
    if present - required - optional:
        raise bad_filter(f"{where}: field(s) {', '.join(sorted(present - required - optional))} not allowed in {ftype}")
    if required - present:
        raise bad_filter(f"{where}: {ftype} requires {', '.join(sorted(required - present))}")
    out = dict(f)
    if ftype == "DATE_TIME_RANGE":
        for end in ("from", "to"):
            out[end] = None if f.get(end) is None else parse_datetime(f[end], f"{where}.{end}")
    elif ftype == "NUMERIC_RANGE":
        out["from"], out["to"] = _number(f.get("from"), f"{where}.from"), _number(f.get("to"), f"{where}.to")
    elif ftype in ("CHECKBOX", "TREE"):
        _str_list(f["options"], f"{where}.options")
        if f.get("comparisonType") is not None:
            _enum(f["comparisonType"], CHECKBOX_CMP, f"{where}.comparisonType")
        if key == "TRANSFER_TO_OPERATOR":
            for option in f["options"]:
                _enum(option, TRANSFER, f"{where}.options[]")
    elif ftype == "RADIO":
        allowed = TRANSFER if key == "TRANSFER_TO_OPERATOR" else YES_NO if key in KEY_TYPES else None
        if allowed is None and not isinstance(f["option"], str):
            raise bad_filter(f"{where}.option must be a string")
        if allowed is not None:
            _enum(f["option"], allowed, f"{where}.option")
    elif ftype == "TEXT":
        _str_list(f["values"], f"{where}.values")
        _enum(f["comparisonType"], TEXT_CMP, f"{where}.comparisonType")
        if not isinstance(f.get("isCaseSensitive", False), bool):
            raise bad_filter(f"{where}.isCaseSensitive must be a boolean")
    elif ftype == "CUSTOM_FIELDS_IN_RESPONSE":
        _str_list(f["responseDataJsonPaths"], f"{where}.responseDataJsonPaths")
    else:  # COMPOSITE_FILTER
        _validate_composite(f["options"], where)
    return out


def _validate_composite(options: Any, where: str) -> None:
    if not isinstance(options, list):
        raise bad_filter(f"{where}.options must be a list")
    for m, option in enumerate(options):
        if not isinstance(option, dict) or set(option) - {"key", "value", "caseSensitive", "comparisonOption"}:
            raise bad_filter(f"{where}.options[{m}] must be {{key, value, caseSensitive, comparisonOption}}")
        if not isinstance(option.get("key"), str) or not isinstance(option.get("value", ""), str | None):
            raise bad_filter(f"{where}.options[{m}].key/value must be strings")
        if not isinstance(option.get("caseSensitive", False), bool):
            raise bad_filter(f"{where}.options[{m}].caseSensitive must be a boolean")
        _enum(option.get("comparisonOption"), COMPOSITE_CMP, f"{where}.options[{m}].comparisonOption")


# -- compilation ------------------------------------------------------------------------------------------
Values = Callable[[Iterable[str]], bool]


def _checkbox(f: dict[str, Any]) -> Values:
    """A predicate over a record's values (empty: the record has none) for CHECKBOX/TREE filters."""
    options, cmp = set(f["options"]), f.get("comparisonType") or "CONTAINS"
    if cmp == "NOT_IMPORTANT" or (not options and cmp in ("CONTAINS", "NOT_CONTAINS")):
        return lambda values: True
    if cmp == "EXISTS":
        return lambda values: any(True for _ in values)
    if cmp == "NOT_EXISTS":
        return lambda values: not any(True for _ in values)
    if cmp == "NOT_CONTAINS":
        return lambda values: not any(v in options for v in values)
    return lambda values: any(v in options for v in values)


def _text(f: dict[str, Any]) -> Values:
    cmp, sensitive = f["comparisonType"], f.get("isCaseSensitive", False)
    norm: Callable[[str], str] = (lambda s: s) if sensitive else str.casefold
    wanted = [norm(v) for v in f["values"]]
    if cmp == "NOT_IMPORTANT" or not wanted:
        return lambda texts: True
    if cmp == "EQUALS":
        return lambda texts: any(norm(t) in wanted for t in texts)
    hit: Values = lambda texts: any(w in norm(t) for t in texts for w in wanted)  # noqa: E731
    return (lambda texts: not hit(texts)) if cmp == "NOT_CONTAINS" else hit


def _values_filter(f: dict[str, Any]) -> Values:
    return _text(f) if f["type"] == "TEXT" else _checkbox(f)


def _range(lo: float | None, hi: float | None) -> Callable[[float], bool]:
    return lambda v: (lo is None or v >= lo) and (hi is None or v <= hi)


@dataclass
class Compiled:
    """Filters compiled against one Dataset; ``key`` is a canonical string for caches."""

    ds: Dataset
    key: str
    msg_range: tuple[int | None, int | None] | None = None
    msg_preds: list[Callable[[int], bool]] = field(default_factory=list)
    sess_preds: list[Callable[[int], bool]] = field(default_factory=list)
    client_preds: list[Callable[[int], bool]] = field(default_factory=list)
    custom_paths: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.msg_range or self.msg_preds or self.sess_preds or self.client_preds)

    def message_ok(self, i: int) -> bool:
        ds = self.ds
        if self.msg_range:
            lo, hi = self.msg_range
            ts = ds.m_ts[i]
            if (lo is not None and ts < lo) or (hi is not None and ts > hi):
                return False
        return all(p(i) for p in self.msg_preds) and self.session_own_ok(ds.m_session[i])

    def session_own_ok(self, j: int) -> bool:
        """Session- and client-level filters only."""
        return all(p(j) for p in self.sess_preds) and all(p(self.ds.s_client[j]) for p in self.client_preds)

    def session_messages(self, j: int) -> list[int]:
        """The messages of session ``j`` passing the message-level filters (caller checks the session)."""
        lo, hi = self.msg_range or (None, None)
        candidates = self.ds.messages_between(j, lo, hi)
        return [i for i in candidates if all(p(i) for p in self.msg_preds)] if self.msg_preds else list(candidates)

    def _session_msgs_ok(self, j: int) -> bool:
        if not (self.msg_range or self.msg_preds):
            return True
        lo, hi = self.msg_range or (None, None)
        candidates = self.ds.messages_between(j, lo, hi)
        return any(all(p(i) for p in self.msg_preds) for i in candidates)

    def session_ok(self, j: int) -> bool:
        return self.session_own_ok(j) and self._session_msgs_ok(j)

    def client_ok(self, k: int) -> bool:
        if not all(p(k) for p in self.client_preds):
            return False
        if not (self.sess_preds or self.msg_range or self.msg_preds):
            return True
        return any(all(p(j) for p in self.sess_preds) and self._session_msgs_ok(j) for j in self.ds.c_sessions[k])


def compile_filters(ds: Dataset, filters: list[dict[str, Any]], *, range_to: str = "inclusive") -> Compiled:
    """Compile validated filters (see :func:`validate`) into predicates over ``ds``.

    ``range_to``: ``"inclusive"`` (``<= to``) or ``"exclusive"`` (``< to``) for every DATE_TIME_RANGE;
    ``from`` is always inclusive. Times are whole milliseconds, so ``< to`` is ``<= to - 1``.
    """
    out = Compiled(ds, json.dumps(filters, sort_keys=True, ensure_ascii=False) + "|to:" + range_to)
    for f in filters:
        if range_to == "exclusive" and f["type"] == "DATE_TIME_RANGE" and f.get("to") is not None:
            f = {**f, "to": f["to"] - 1}
        _compile_one(ds, f, out)
    return out


def _compile_one(ds: Dataset, f: dict[str, Any], out: Compiled) -> None:
    key = f["key"]
    if f["type"] == "DATE_TIME_RANGE" and key in _TIME_KEYS:
        lo, hi = f["from"], f["to"]
        within = _range(lo, hi)
        if key in ("MESSAGE_TIME", "PERIOD"):
            old_lo, old_hi = out.msg_range or (None, None)
            out.msg_range = (lo if old_lo is None else old_lo if lo is None else max(lo, old_lo),
                             hi if old_hi is None else old_hi if hi is None else min(hi, old_hi))
        elif key == "SESSION_START_TIME":
            out.sess_preds.append(lambda j: within(ds.s_start[j]))
        elif key == "SESSION_END_TIME":
            out.sess_preds.append(lambda j: within(ds.last_activity(j)))
        elif key == "CLIENT_JOIN_TIME":
            out.client_preds.append(lambda k: within(ds.client_join(k)))
        else:
            out.client_preds.append(lambda k: within(ds.client_last_visit(k)))
    elif key == "MESSAGE_COUNT":
        counted = _range(f["from"], f["to"])
        out.sess_preds.append(lambda j: counted(len(ds.s_msgs[j])))
    elif key == "WITHOUT_EMPTY_SESSIONS" and f["option"] == "YES":
        out.sess_preds.append(lambda j: len(ds.s_msgs[j]) > 0)
    elif key == "EXCEPTION_EXISTENCE" and f["option"] != "NOT_IMPORTANT":
        want = f["option"] == "YES"
        out.msg_preds.append(lambda i: (i in ds.m_exception) == want)
    elif key == "CHANNEL_TYPE":
        ok = _checkbox(f)
        out.client_preds.append(lambda k: ok((P.CHANNELS[ds.c_channel[k]],)))
    elif key == "BOT_ID":
        ok = _checkbox(f)
        out.client_preds.append(lambda k: ok((ds.bots[ds.c_bot[k]],)))
    elif key == "CLIENT_ID_OR_NAME":
        ok = _values_filter(f)
        out.client_preds.append(lambda k: ok([v for v in (ds.c_ids[k], *ds.c_names[k]) if v]))
    elif key == "SESSION_ID":
        ok = _values_filter(f)
        out.sess_preds.append(lambda j: ok((ds.session_id(j),)))
    elif key == "SESSION_RESULT":
        ok = _values_filter(f)
        out.sess_preds.append(lambda j: ok((P.SESSION_RESULTS[ds.s_result[j] - 1],) if ds.s_result[j] else ()))
    elif key == "SESSION_LABELS":
        ok = _checkbox(f)
        out.sess_preds.append(lambda j: ok([str(x) for x in ds.s_labels.get(j, ())]))
    elif key == "LOG_LABELS":
        ok = _checkbox(f)
        out.msg_preds.append(lambda i: ok([str(x) for x in ds.m_labels.get(i, ())]))
    elif key == "TRANSFER_TO_OPERATOR":
        ok = _checkbox(f if f["type"] == "CHECKBOX" else {"options": [f["option"]]})
        out.sess_preds.append(lambda j: ok(("ANY", "WITH_TRANSFER" if ds.s_transfer[j] else "WITHOUT_TRANSFER")))
    elif key in ("MESSAGE_TEXT", "ANSWER_TEXT", "MESSAGE_OR_ANSWER_TEXT", "COMMENT_TEXT"):
        ok = _text(f)
        pick: Callable[[int], list[str]] = {
            "MESSAGE_TEXT": lambda i: [P.PHRASES[ds.m_phrase[i]].question],
            "ANSWER_TEXT": lambda i: [P.PHRASES[ds.m_phrase[i]].answer],
            "MESSAGE_OR_ANSWER_TEXT": lambda i: [P.PHRASES[ds.m_phrase[i]].question, P.PHRASES[ds.m_phrase[i]].answer],
            "COMMENT_TEXT": lambda i: [ds.m_comment[i]] if i in ds.m_comment else [],
        }[key]
        out.msg_preds.append(lambda i: ok(pick(i)))
    elif key == "CUSTOM_FIELDS_IN_RESPONSE":
        out.custom_paths += tuple(f["responseDataJsonPaths"])
