"""The generated Conpeek dataset: conversation-opened statistics and messages, kept compact.

Records are stored as small tuples sorted by ObjectId and turned into dicts only when served, so a
million messages fit in a few hundred MB. Every field name and value is HYPOTHETICAL (the
ConversationStatisticsOpened and Message models are not public); see ``emulators/conpeek/__init__.py``.

Compact rows (indexes point into :mod:`emulators.conpeek.vocab` pools):

* conversation entity: ``(ts, type, project, conversation_id, outbound, peer, channel, user, subject)``
* conversation-opened record: ``(ts, entity)``
* message record: ``(ts, written, entity, user, outbound, text, attachments)``
"""

from __future__ import annotations

import random
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from emulators.conpeek import vocab
from emulators.conpeek.objectid import ObjectIdMinter, object_id_seconds

DAY = 86_400
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
LATE_FRACTION = 0.03  # share of initial records written minutes to an hour after their ts
_TYPE_CUM = list(accumulate(vocab.TYPE_WEIGHTS))
_PROJECT_IDS = tuple(p[0] for p in vocab.PROJECTS)

Row = tuple[Any, ...]


def format_ts(seconds: int) -> str:
    """Epoch seconds as the API's ``YYYY-MM-DD HH:mm:ss`` UTC string."""
    return time.strftime(TIME_FORMAT, time.gmtime(seconds))


def resolve_now(now: datetime | str | float | None) -> int:
    """The dataset's "now" as epoch seconds: current time, a datetime (naive = UTC), a number or a string."""
    if now is None:
        return int(time.time())
    if isinstance(now, int | float):
        return int(now)
    if isinstance(now, str):
        now = datetime.fromisoformat(now.replace("Z", "+00:00"))
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return int(now.timestamp())


class Table:
    """Records sorted by id: parallel lists of ids and compact rows (``row[0]`` is the event time), and the
    largest delay between a record's event and its write (the second in its id), which bounds how far
    past a time range a record of that range can sort."""

    def __init__(self, ids: list[str], rows: list[Row]) -> None:
        self.ids, self.rows = ids, rows
        self.max_delay = max((object_id_seconds(oid) - row[0] for oid, row in zip(ids, rows, strict=True)),
                             default=0)

    def insert(self, oid: str, row: Row) -> None:
        index = bisect_left(self.ids, oid)
        self.ids.insert(index, oid)
        self.rows.insert(index, row)
        self.max_delay = max(self.max_delay, object_id_seconds(oid) - row[0])

    def __len__(self) -> int:
        return len(self.ids)


class ConpeekData:
    """The tenant's records plus the clock and the writers that mint their ids; guarded by :attr:`lock`."""

    def __init__(self, *, seed: int = 1, now: int, days: int = 30, conversations: int = 500,
                 messages: int = 3000, writers: int = 4, id_key: str = "id") -> None:
        if messages and not conversations:
            raise ValueError("messages need at least one conversation")
        self.rng = random.Random(seed)
        self.now, self.days, self.id_key = now, days, id_key
        self.lock = threading.RLock()
        self.new_field = False
        self.extra: dict[str, dict[str, Any]] = {}  # per-id extra fields (schema drift)
        self.minter = ObjectIdMinter(self.rng, writers)  # the statistics writers
        self.conversation_ids = ObjectIdMinter(self.rng, 2)  # the service that opens conversations
        self.entities: list[Row] = []
        start = now - days * DAY
        for ts in sorted(start + int(self.rng.random() * days * DAY) for _ in range(conversations)):
            self._new_entity(ts)
        self.conversations = self._build([(e[0], i) for i, e in enumerate(self.entities)],
                                         [self._written(e[0]) for e in self.entities])
        self.messages = self._build(*self._generate_messages(messages, start))

    # -- generation ------------------------------------------------------------------------------------
    def _new_entity(self, ts: int) -> int:
        """Open a conversation at ``ts``; returns its entity index."""
        rng = self.rng
        type_index = bisect_right(_TYPE_CUM, rng.random() * _TYPE_CUM[-1])
        kind = vocab.CONVERSATION_TYPES[type_index]
        if kind in vocab.PHONE_TYPES:
            peer = f"48{rng.randrange(500_000_000, 900_000_000)}"
        elif kind == "email":
            peer = f"{rng.choice(vocab.EMAIL_NAMES)}{rng.randrange(100)}@{rng.choice(vocab.EMAIL_DOMAINS)}"
        elif kind == "facebook":
            peer = str(rng.randrange(10**15, 10**16))
        else:
            peer = f"web-{rng.getrandbits(48):012x}"
        outbound = kind not in vocab.UNANSWERABLE and rng.random() < 0.15
        user = rng.choice(vocab.TENANT_USERS) if outbound or rng.random() < 0.25 else None
        subject = None
        if kind == "email":
            subject = rng.choice(vocab.SUBJECTS).replace("{n}", str(rng.randrange(10_000, 99_999)))
        conversation_id = self.conversation_ids.mint(ts, rng.randrange(self.conversation_ids.writers))
        self.entities.append((ts, type_index, rng.randrange(len(vocab.PROJECTS)),
                              conversation_id, outbound, peer, rng.choice(vocab.CHANNELS[kind]), user, subject))
        return len(self.entities) - 1

    def _message_row(self, ts: int, written: int, entity: int) -> Row:
        rng = self.rng
        e = self.entities[entity]
        kind = vocab.CONVERSATION_TYPES[e[1]]
        outbound = kind not in vocab.UNANSWERABLE and rng.random() < 0.4
        user = (e[7] or rng.choice(vocab.TENANT_USERS)) if outbound else None
        lo, hi = vocab.text_range(kind, outbound)
        attachments = 0
        if kind == "fax":
            attachments = 1
        elif kind in ("email", "whatsapp") and rng.random() < 0.25:
            attachments = rng.randint(1, 3)
        return (ts, written, entity, user, outbound, lo + int(rng.random() * (hi - lo)), attachments)

    def _written(self, ts: int) -> int:
        """When a record with event time ``ts`` was written: a few seconds later, sometimes much later."""
        rng = self.rng
        delay = rng.randint(60, 3600) if rng.random() < LATE_FRACTION else int(rng.random() * 31)
        return min(ts + delay, self.now)

    def _generate_messages(self, count: int, start: int) -> tuple[list[Row], list[int]]:
        rng, span, written_at = self.rng, self.days * DAY, self._written
        entity_ts = [e[0] for e in self.entities]
        rows: list[Row] = []
        written: list[int] = []
        for _ in range(count):
            ts = start + int(rng.random() * span)
            index = max(0, bisect_right(entity_ts, ts) - 1 - int(rng.expovariate(0.2)))
            ts = max(ts, entity_ts[index])
            at = written_at(ts)
            rows.append(self._message_row(ts, at, index))
            written.append(at)
        return rows, written

    def _build(self, rows: list[Row], written: list[int]) -> Table:
        """Mint ids in write order (random writer per record) and sort the records by id."""
        mint, pick, writers = self.minter.mint, self.rng.randrange, self.minter.writers
        ids: list[str] = [""] * len(rows)
        for i in sorted(range(len(rows)), key=written.__getitem__):
            ids[i] = mint(written[i], pick(writers))
        order = sorted(range(len(rows)), key=ids.__getitem__)
        return Table([ids[i] for i in order], [rows[i] for i in order])

    # the generator's steps, for records placed at exact times (``place.py``)
    def open_conversation(self, ts: int) -> int:
        """Open a conversation at ``ts``; returns its entity index."""
        return self._new_entity(ts)

    def message_row(self, ts: int, written: int, entity: int) -> Row:
        """A message row of conversation ``entity`` (random content)."""
        return self._message_row(ts, written, entity)

    def conversation_before(self, ts: int) -> int:
        """A recent conversation opened at or before ``ts`` (the oldest one when none is)."""
        return self._entity_before(ts)

    # -- serving ---------------------------------------------------------------------------------------
    def conversation_record(self, oid: str, row: Row) -> dict[str, Any]:
        e = self.entities[row[1]]
        project_id, project_name = vocab.PROJECTS[e[2]]
        record = {
            self.id_key: oid, "ts": format_ts(row[0]), "project_id": project_id, "project_name": project_name,
            "conversation_type": vocab.CONVERSATION_TYPES[e[1]], "conversation_id": e[3],
            "direction": "out" if e[4] else "in", "peer_identifier": e[5], "channel_identifier": e[6],
            "tenant_user_id": e[7], "subject": e[8],
        }
        extra = self.extra.get(oid)
        return {**record, **extra} if extra else record

    def message_record(self, oid: str, row: Row) -> dict[str, Any]:
        e = self.entities[row[2]]
        record = {
            self.id_key: oid, "ts": format_ts(row[0]), "system_date": format_ts(row[1]),
            "conversation_id": e[3], "project_id": _PROJECT_IDS[e[2]], "tenant_user_id": row[3],
            "message_type": vocab.CONVERSATION_TYPES[e[1]], "direction": "out" if row[4] else "in",
            "channel_identifier": e[6], "peer_identifier": e[5], "text": vocab.TEXTS[row[5]],
            "attachment_count": row[6],
        }
        extra = self.extra.get(oid)
        return {**record, **extra} if extra else record

    def conversation_getters(self) -> dict[str, Callable[[Row], Any]]:
        """Row accessors of the filterable conversation properties (``date`` is the event time)."""
        ents = self.entities
        return {
            "date": lambda r: r[0],
            "project_id_list": lambda r: _PROJECT_IDS[ents[r[1]][2]],
            "conversation_type_list": lambda r: vocab.CONVERSATION_TYPES[ents[r[1]][1]],
        }

    def message_getters(self) -> dict[str, Callable[[Row], Any]]:
        """Row accessors of the filterable message properties (``date`` is the event time)."""
        ents = self.entities
        return {
            "date": lambda r: r[0],
            "system_date": lambda r: r[1],
            "project_id_list": lambda r: _PROJECT_IDS[ents[r[2]][2]],
            "tenant_user_id_list": lambda r: r[3],
            "message_type_list": lambda r: vocab.CONVERSATION_TYPES[ents[r[2]][1]],
            "channel_identifier": lambda r: ents[r[2]][6],
            "peer_identifier": lambda r: ents[r[2]][5],
            "direction": lambda r: "out" if r[4] else "in",
        }

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            return {
                "conversation_statistics_opened": [
                    self.conversation_record(oid, row)
                    for oid, row in zip(self.conversations.ids, self.conversations.rows, strict=True)],
                "messages": [self.message_record(oid, row)
                             for oid, row in zip(self.messages.ids, self.messages.rows, strict=True)],
            }

    # -- time passing ----------------------------------------------------------------------------------
    def _entity_before(self, ts: int) -> int:
        """A recent conversation opened at or before ``ts`` (the oldest one when none is)."""
        ents = self.entities
        recent = [i for i in range(len(ents) - 1, max(-1, len(ents) - 500), -1) if ents[i][0] <= ts]
        if not recent:
            recent = [i for i in range(len(ents) - 1, -1, -1) if ents[i][0] <= ts]
        if not recent:
            return min(range(len(ents)), key=lambda i: ents[i][0])
        return recent[min(len(recent) - 1, int(self.rng.expovariate(0.3)))]

    def mutate(self, *, advance_seconds: int = 3600, new_conversations: int = 3, new_messages: int = 12,
               late_records: int = 2, new_field: bool | None = None, late_count: int = 0,
               late_hours: float = 18.0) -> dict[str, Any]:
        """Let time pass: move "now", write new records and late ones: ``late_records`` per table whose ts
        is 5–30 min before the new now, and ``late_count`` per table whose ts is exactly ``late_hours``
        before it (asynchronous statistics); all late records are written (their ids minted) at now."""
        if late_hours < 0:
            raise ValueError(f"late_hours must not be negative, got {late_hours}")
        with self.lock:
            rng = self.rng
            if new_field is not None:
                self.new_field = bool(new_field)
            old_now = self.now
            self.now += max(0, int(advance_seconds))
            pending: list[tuple[int, str, Row, bool]] = []  # (written, table, row, late)

            def event_time() -> int:
                return old_now + 1 + int(rng.random() * (self.now - old_now)) if self.now > old_now else self.now

            def late_time() -> int:
                return self.now - rng.randint(300, 1800)

            def very_late_time() -> int:
                return self.now - round(late_hours * 3600)

            for ts in sorted(event_time() for _ in range(int(new_conversations))):
                pending.append((self._written(ts), "c", (ts, self._new_entity(ts)), False))
            for when, count in ((late_time, int(late_records)), (very_late_time, int(late_count))):
                for _ in range(count):
                    ts = when()
                    pending.append((self.now, "c", (ts, self._new_entity(ts)), True))
            for when, count in ((event_time, int(new_messages)), (late_time, int(late_records)),
                                (very_late_time, int(late_count))):
                late = when is not event_time
                if not self.entities:
                    break
                for _ in range(count):
                    ts = when()
                    entity = self._entity_before(ts)
                    ts = max(ts, self.entities[entity][0])
                    written = self.now if late else self._written(ts)
                    pending.append((written, "m", self._message_row(ts, written, entity), late))
            return self._write(pending, advance_seconds)

    def _write(self, pending: list[tuple[int, str, Row, bool]], advanced: int) -> dict[str, Any]:
        """Mint ids for ``pending`` records in write order and insert them; returns the summary."""
        names = {"c": "conversation_statistics_opened", "m": "messages"}
        summary: dict[str, Any] = {"now": format_ts(self.now), "advance_seconds": max(0, int(advanced)),
                                   "new_field": self.new_field}
        for name in names.values():
            summary[name] = {"added": [], "late": []}
        for written, table, row, late in sorted(pending, key=lambda p: p[0]):
            oid = self.minter.mint(written, self.rng.randrange(self.minter.writers))
            (self.conversations if table == "c" else self.messages).insert(oid, row)
            if self.new_field:
                self.extra[oid] = {"sentiment": self.rng.choice(vocab.SENTIMENTS)}
            summary[names[table]]["late" if late else "added"].append(oid)
        summary["ids"] = [oid for name in names.values() for key in ("added", "late")
                          for oid in summary[name][key]]
        return summary
