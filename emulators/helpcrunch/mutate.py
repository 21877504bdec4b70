"""Time passing in the emulated account: new chats, messages, status changes, ratings, closings, customers.

Every change stamps the chats it touches with a new internal ``updatedAt`` (the ``chats.updatedAt`` filter);
every new record lies after the previous ``now`` and at or before the new one.
"""

from __future__ import annotations

import random
import time
from typing import Any

from emulators.helpcrunch.data import (
    RATINGS,
    finish_chat,
    make_customer,
    new_chat,
    note_customer_activity,
    set_read_flags,
)
from emulators.helpcrunch.model import AGENT, CUSTOMER, MSG, NULL_TS, PRIVATE, READ, Chat, Customer, Dataset
from emulators.helpcrunch.texts import AGENT_TEXTS, CUSTOMER_TEXTS, PRIVATE_TEXTS

OPEN_STATUSES = ("opened", "pending", "onhold", "on hold", "no communication")


class Clock:
    """Random instants in ``(start, end]`` seconds, as milliseconds."""

    def __init__(self, rng: random.Random, start: int, end: int) -> None:
        self.rng, self.start_ms, self.end_ms = rng, start * 1000, max(end * 1000, start * 1000 + 1)

    def ms(self) -> int:
        return self.rng.randint(self.start_ms + 1, self.end_ms)

    def sorted_ms(self, count: int) -> list[int]:
        return sorted(self.ms() for _ in range(count))


def mutate(ds: Dataset, rng: random.Random, *, real_clock: bool, advance_seconds: float | None = None,
           new_chats: int = 3, new_messages: int = 10, status_changes: int = 3, closes: int = 2,
           ratings: int = 2, reassignments: int = 1, new_customers: int = 2,
           customer_activity: int = 3, not_before: int = 0) -> dict[str, Any]:
    """Apply the changes and return what changed (ids per kind of change, and the new ``now``).

    Changes fall in ``(max(previous now, not_before), new now]``: never before an answer already served."""
    before = ds.now
    if advance_seconds is None:
        ds.now = max(before + 1, int(time.time())) if real_clock else before + 3600
    else:
        ds.now = before + max(0, int(advance_seconds))
    clock = Clock(rng, min(max(before, not_before), ds.now), ds.now)
    old_chats = [c for c in ds.chats]
    summary: dict[str, Any] = {"previous_now": before, "now": ds.now}
    summary["new_customer_ids"] = [_new_customer(ds, rng, clock).id for _ in range(max(0, new_customers))]
    summary["new_chat_ids"] = [_new_chat(ds, rng, clock).id for _ in range(max(0, new_chats))]
    summary["new_message_ids"], summary["chats_with_new_messages"] = _new_messages(ds, rng, clock, old_chats,
                                                                                   new_messages)
    summary["status_changed_chat_ids"] = _change_status(ds, rng, clock, status_changes)
    summary["closed_chat_ids"] = _close(ds, rng, clock, closes)
    summary["rated_chat_ids"] = _rate(ds, rng, clock, ratings)
    summary["reassigned_chat_ids"] = _reassign(ds, rng, clock, reassignments)
    active = rng.sample(ds.customers, min(len(ds.customers), max(0, customer_activity)))
    for customer in active:
        customer.last_seen = max(customer.last_seen or 0, clock.ms() // 1000)
    summary["active_customer_ids"] = sorted(c.id for c in active)
    touched = set(summary["new_chat_ids"]) | set(summary["chats_with_new_messages"])
    for key in ("status_changed_chat_ids", "closed_chat_ids", "rated_chat_ids", "reassigned_chat_ids"):
        touched.update(summary[key])
    summary["updated_chat_ids"] = sorted(touched)
    return summary


def _touch(chat: Chat, at_ms: int) -> None:
    chat.updated_at = max(chat.updated_at, at_ms // 1000)


def _new_customer(ds: Dataset, rng: random.Random, clock: Clock) -> Customer:
    seen = clock.ms() // 1000
    customer = make_customer(rng, ds.next_customer_id, ds.now, first_seen=seen)
    customer.last_seen = seen
    ds.next_customer_id += 3
    ds.customers.append(customer)
    ds.customers_by_id[customer.id] = customer
    return customer


def add_message(ds: Dataset, rng: random.Random, chat: Chat, at_ms: int, sender: int, kind: int = MSG,
                exact: bool = False) -> int:
    """Append a new message at ``at_ms`` (moved after the chat's newest one unless ``exact``, when it must
    not be older than that one) and update the chat; its id."""
    if not exact:
        at_ms = max(at_ms, chat.newest_message_ms + 1)
    elif at_ms < chat.newest_message_ms:
        raise ValueError("messages must be added oldest first")
    locale = ds.customers_by_id[chat.customer_id].record["locale"]
    agent = 0
    if sender == CUSTOMER:
        text = rng.choice(CUSTOMER_TEXTS[locale])
    else:
        agent = chat.assignee_id or rng.choice(ds.agents)["id"]
        text = rng.choice(PRIVATE_TEXTS if kind == PRIVATE else AGENT_TEXTS[locale])
    message_id = ds.next_message_id
    ds.next_message_id += rng.randint(1, 3)
    updated = NULL_TS if rng.random() < 0.3 else max(at_ms, min(at_ms + rng.randrange(1, 5000), ds.now * 1000))
    chat.add_message(message_id, at_ms, updated, kind, sender, agent, ds.text_id(text), READ, 0)
    if sender == CUSTOMER:
        if chat.status in ("closed", "no communication", "empty"):
            chat.status, chat.closed_at, chat.closed_by = ("opened" if chat.agent_ids else "new"), None, None
        note_customer_activity(ds.customers_by_id[chat.customer_id], chat)
    elif kind != PRIVATE and chat.status in ("new", "empty"):
        chat.status = "opened"
        chat.assignee_id = chat.assignee_id or agent
    set_read_flags(chat)
    _touch(chat, at_ms)
    return message_id


def _new_chat(ds: Dataset, rng: random.Random, clock: Clock) -> Chat:
    times = clock.sorted_ms(rng.randint(1, 4))
    customer = rng.choice(ds.customers)
    chat = new_chat(rng, ds, ds.next_chat_id, times[0] // 1000, "new", [a["id"] for a in ds.agents], customer)
    chat.created_with = "customer_message"
    ds.next_chat_id += rng.randint(1, 9)
    for i, at in enumerate(times):
        add_message(ds, rng, chat, at, CUSTOMER if i == 0 or rng.random() < 0.5 else AGENT)
    finish_chat(rng, chat, ds.now)
    ds.chats.append(chat)
    ds.chats_by_id[chat.id] = chat
    return chat


def _new_messages(ds: Dataset, rng: random.Random, clock: Clock, old_chats: list[Chat],
                  count: int) -> tuple[list[int], list[int]]:
    if not old_chats or count <= 0:
        return [], []
    ids, chats = [], set()
    for at in clock.sorted_ms(count):
        chat = rng.choice(old_chats)
        r = rng.random()
        sender, kind = (CUSTOMER, MSG) if r < 0.5 else (AGENT, MSG) if r < 0.9 else (AGENT, PRIVATE)
        ids.append(add_message(ds, rng, chat, at, sender, kind))
        chats.add(chat.id)
    return ids, sorted(chats)


def _pick(rng: random.Random, chats: list[Chat], count: int) -> list[Chat]:
    return rng.sample(chats, min(len(chats), max(0, count)))


def _change_status(ds: Dataset, rng: random.Random, clock: Clock, count: int) -> list[int]:
    candidates = [c for c in ds.chats if c.status in OPEN_STATUSES or (c.status == "new" and c.agent_ids)]
    changed = []
    for chat in _pick(rng, candidates, count):
        chat.status = rng.choice([s for s in OPEN_STATUSES if s != chat.status])
        _touch(chat, clock.ms())
        changed.append(chat.id)
    return sorted(changed)


def _close(ds: Dataset, rng: random.Random, clock: Clock, count: int) -> list[int]:
    candidates = [c for c in ds.chats if c.status not in ("closed", "empty") and len(c.messages)]
    closed = []
    for chat in _pick(rng, candidates, count):
        at = max(clock.ms(), chat.newest_message_ms)
        chat.status, chat.closed_at = "closed", at // 1000
        chat.closed_by = rng.choice(("agent", "agent", "customer"))
        chat.snoozed_until = None
        _touch(chat, at)
        closed.append(chat.id)
    return sorted(closed)


def _rate(ds: Dataset, rng: random.Random, clock: Clock, count: int) -> list[int]:
    candidates = [c for c in ds.chats if c.status == "closed" and c.rating is None]
    rated = []
    for chat in _pick(rng, candidates, count):
        chat.rating = rng.choice(RATINGS)
        _touch(chat, max(clock.ms(), (chat.closed_at or 0) * 1000))
        rated.append(chat.id)
    return sorted(rated)


def _reassign(ds: Dataset, rng: random.Random, clock: Clock, count: int) -> list[int]:
    candidates = [c for c in ds.chats if c.status in OPEN_STATUSES]
    moved = []
    for chat in _pick(rng, candidates, count):
        others = [a["id"] for a in ds.agents if a["id"] != chat.assignee_id]
        if not others:
            continue
        chat.assignee_id = rng.choice(others)
        _touch(chat, clock.ms())
        moved.append(chat.id)
    return sorted(moved)

