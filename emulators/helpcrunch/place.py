"""Chats a test places at exact times: created on a window's edge second, one second before it, and so on.

``POST /__emulator/place`` with ``{"chats": [spec, ...]}`` (or ``HelpCrunchApi.place(chats=[...])``); a
spec is ``{"created_at": time, "messages": [time, ...]?, "status": str?, "customer": int?}``:

* ``created_at`` is the chat's ``createdAt``: unix seconds (an integer) or an ISO date-time (whole seconds);
* ``messages`` are message ``createdAt`` times: unix seconds with an optional fraction (milliseconds:
  ``1700000000.123``) or ISO date-times; sorted here, equal ones allowed, none before ``created_at``.
  The first is the customer's, the rest alternate between the agent and the customer;
* ``status`` is a chat status (default ``opened``, or ``empty`` without messages); ``customer`` an existing
  customer id (default: a random customer).

The account's "now" moves forward to the newest placed time when that is later. Answers
``{"chats": [{"id", "createdAt", "messageIds"}], "now"}``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from emulators.helpcrunch.data import finish_chat, new_chat, note_customer_activity
from emulators.helpcrunch.model import AGENT, CUSTOMER, STATUSES, Chat, Dataset
from emulators.helpcrunch.mutate import add_message


def to_ms(value: Any, what: str) -> int:
    """Unix seconds (fraction allowed) or an ISO date-time (naive: UTC) as unix milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * 1000)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not an ISO date-time") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return round(moment.timestamp() * 1000)
    raise ValueError(f"{what} must be unix seconds or an ISO date-time, got {value!r}")


def place(ds: Dataset, rng: random.Random, *, chats: list[dict[str, Any]]) -> dict[str, Any]:
    """Add one chat per spec (see the module docstring); returns their ids."""
    if not isinstance(chats, list):
        raise ValueError("chats must be a list of objects")
    plans = [_plan(ds, n, spec) for n, spec in enumerate(chats)]
    latest = max((max([created * 1000, *times]) for created, times, _, _ in plans), default=0)
    ds.now = max(ds.now, -(-latest // 1000))
    out = []
    for created, times, status, customer_id in plans:
        chat = _chat(ds, rng, created, times, status, customer_id)
        out.append({"id": chat.id, "createdAt": chat.created_at, "messageIds": list(chat.messages.ids)})
    return {"chats": out, "now": ds.now}


def _plan(ds: Dataset, n: int, spec: Any) -> tuple[int, list[int], str, int | None]:
    """``(createdAt seconds, message times in ms, status, customer id)`` of one spec, validated."""
    where = f"chats[{n}]"
    if not isinstance(spec, dict) or "created_at" not in spec:
        raise ValueError(f"{where} must be an object with 'created_at'")
    unknown = set(spec) - {"created_at", "messages", "status", "customer"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    created_ms = to_ms(spec["created_at"], f"{where}.created_at")
    if created_ms % 1000:
        raise ValueError(f"{where}.created_at must be a whole second (createdAt is unix seconds)")
    raw = spec.get("messages") or []
    if not isinstance(raw, list):
        raise ValueError(f"{where}.messages must be a list of times")
    times = sorted(to_ms(t, f"{where}.messages[{m}]") for m, t in enumerate(raw))
    if times and times[0] < created_ms:
        raise ValueError(f"{where}: a message is older than the chat")
    status = spec.get("status") or ("opened" if times else "empty")
    if status not in STATUSES or (status == "empty") != (not times):
        raise ValueError(f"{where}.status must be one of {', '.join(STATUSES)} ('empty' exactly when there "
                         f"are no messages), got {status!r}")
    customer = spec.get("customer")
    if customer is not None and customer not in ds.customers_by_id:
        raise ValueError(f"{where}.customer {customer!r} is not a customer")
    return created_ms // 1000, times, status, customer


def _chat(ds: Dataset, rng: random.Random, created: int, times: list[int], status: str,
          customer_id: int | None) -> Chat:
    customer = ds.customers_by_id[customer_id] if customer_id is not None else rng.choice(ds.customers)
    chat = new_chat(rng, ds, ds.next_chat_id, created, status, [a["id"] for a in ds.agents], customer)
    ds.next_chat_id += rng.randint(1, 9)
    for i, at in enumerate(times):
        add_message(ds, rng, chat, at, CUSTOMER if i % 2 == 0 else AGENT, exact=True)
    chat.status = status  # a message may have reopened it; the spec has the last word
    finish_chat(rng, chat, ds.now)
    note_customer_activity(customer, chat)
    ds.chats.append(chat)
    ds.chats_by_id[chat.id] = chat
    return chat
