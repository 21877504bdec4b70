"""The in-memory records of the emulated HelpCrunch account.

Messages are stored column-wise per chat (``array`` columns, texts as indices into a shared pool) so a
million of them fit in a few tens of megabytes; JSON dicts are built only when a page is served.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

MESSAGE_TYPES = ("message", "tech", "email", "knowledgeBase", "private")
MSG, TECH, EMAIL, KB, PRIVATE = range(5)
SENDERS = ("customer", "agent")
CUSTOMER, AGENT = 0, 1
BROADCAST_TYPES = (None, "trigger", "auto chat", "auto email", "manual chat", "manual email")
READ, EDITED = 1, 2
NO_TEXT = -1
NULL_TS = -1

# the chat statuses a response may spell, and the canonical filter key of each
STATUSES = ("new", "opened", "pending", "onhold", "on hold", "closed", "no communication", "empty")
STATUS_CODES = {"1": "new", "2": "opened", "3": "pending", "4": "onhold", "5": "closed",
                "6": "nocommunication", "7": "empty"}
STATUS_ALIASES = {"open": "opened", "hold": "onhold", "resolved": "closed"}


def status_key(name: str) -> str:
    """Canonical form of a status name or numeric code: ``"on hold"``, ``"on-hold"``, ``"4"`` → ``"onhold"``."""
    text = name.strip().lower()
    if text in STATUS_CODES:
        return STATUS_CODES[text]
    text = text.replace(" ", "").replace("-", "").replace("_", "")
    return STATUS_ALIASES.get(text, text)


class MessageLog:
    """The messages of one chat, oldest first, one compact column per field."""

    __slots__ = ("agent", "broadcast", "created", "flags", "ids", "kind", "sender", "text", "updated")

    def __init__(self) -> None:
        self.ids = array("q")
        self.created = array("q")  # unix milliseconds
        self.updated = array("q")  # unix milliseconds, NULL_TS for null
        self.kind = array("b")  # index into MESSAGE_TYPES
        self.sender = array("b")  # index into SENDERS
        self.agent = array("q")  # agent id, 0 for null
        self.text = array("q")  # index into the text pool, NO_TEXT for null
        self.flags = array("b")  # READ | EDITED
        self.broadcast = array("b")  # index into BROADCAST_TYPES

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(slots=True, eq=False)
class Chat:
    """One chat; the ``last*``/``agents`` fields are caches kept in step with :attr:`messages`."""

    id: int
    created_at: int
    customer_id: int
    status: str
    created_with: str
    application_id: int
    updated_at: int  # internal: filterable as chats.updatedAt, never served
    assignee_id: int | None = None
    department_id: int | None = None
    closed_by: str | None = None
    closed_at: int | None = None
    rating: str | None = None
    snoozed_until: int | None = None
    read_by_agent: bool = False
    read_by_customer: bool = False
    messages: MessageLog = field(default_factory=MessageLog)
    agent_ids: list[int] = field(default_factory=list)
    last_idx: int = -1  # newest non-private message
    last_customer_idx: int = -1
    last_agent_id: int | None = None  # lastCommunicatedAgentId

    def add_message(self, mid: int, created_ms: int, updated_ms: int, kind: int, sender: int, agent: int,
                    text: int, flags: int, broadcast: int) -> int:
        """Append a message (never older than the previous one) and update the caches; returns its index."""
        log = self.messages
        idx = len(log.ids)
        log.ids.append(mid)
        log.created.append(created_ms)
        log.updated.append(updated_ms)
        log.kind.append(kind)
        log.sender.append(sender)
        log.agent.append(agent)
        log.text.append(text)
        log.flags.append(flags)
        log.broadcast.append(broadcast)
        if kind != PRIVATE:
            self.last_idx = idx
            if agent and sender == AGENT:
                self.last_agent_id = agent
        if sender == CUSTOMER:
            self.last_customer_idx = idx
        if agent and agent not in self.agent_ids:
            self.agent_ids.append(agent)
        return idx

    @property
    def last_message_at(self) -> int | None:
        return self.messages.created[self.last_idx] // 1000 if self.last_idx >= 0 else None

    @property
    def last_customer_message_at(self) -> int | None:
        idx = self.last_customer_idx
        return self.messages.created[idx] // 1000 if idx >= 0 else None

    @property
    def newest_message_ms(self) -> int:
        """Creation time of the newest message of any type (0 when there is none)."""
        return self.messages.created[-1] if len(self.messages) else 0


@dataclass(slots=True, eq=False)
class Customer:
    """One customer; :attr:`record` holds the static documented fields in their served order."""

    id: int
    record: dict[str, Any]
    first_seen: int | None
    last_seen: int | None
    last_seen_as_int: bool = False  # the mixed timestamp style serves this one's lastSeen as an integer
    channel_ids: dict[str, str] = field(default_factory=dict)  # telegramId, ...: searchable, not served


@dataclass(slots=True, eq=False)
class Department:
    id: int
    name: str
    agent_ids: list[int]


@dataclass(eq=False)
class Dataset:
    """Everything the emulated account holds, plus the id counters for new records."""

    now: int
    agents: list[dict[str, Any]]
    departments: list[Department]
    customers: list[Customer]
    chats: list[Chat]
    texts: list[str]
    next_chat_id: int
    next_message_id: int
    next_customer_id: int
    agents_by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    departments_by_id: dict[int, Department] = field(default_factory=dict)
    customers_by_id: dict[int, Customer] = field(default_factory=dict)
    chats_by_id: dict[int, Chat] = field(default_factory=dict)
    text_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self.agents_by_id = {a["id"]: a for a in self.agents}
        self.departments_by_id = {d.id: d for d in self.departments}
        self.customers_by_id = {c.id: c for c in self.customers}
        self.chats_by_id = {c.id: c for c in self.chats}
        self.text_index = {t: i for i, t in enumerate(self.texts)}

    def text_id(self, text: str | None) -> int:
        """The pool index of ``text`` (added when new); ``NO_TEXT`` for ``None``."""
        if text is None:
            return NO_TEXT
        idx = self.text_index.get(text)
        if idx is None:
            idx = self.text_index[text] = len(self.texts)
            self.texts.append(text)
        return idx

    @property
    def message_count(self) -> int:
        return sum(len(c.messages) for c in self.chats)
