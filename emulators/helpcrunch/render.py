"""Records → JSON objects as the HelpCrunch API serves them, in one of three timestamp styles.

``mixed`` (default) follows the documentation's examples: chats from GET endpoints carry integer
timestamps, chats from ``POST /chats/search`` numeric strings, messages fractional strings
(``"1594139170.913"``), customers numeric strings (a few ``lastSeen`` integers). ``int`` serves JSON
numbers everywhere (messages keep their milliseconds as a fraction); ``string`` serves strings everywhere.
"""

from __future__ import annotations

from typing import Any

from emulators.helpcrunch.model import (
    BROADCAST_TYPES,
    EDITED,
    MESSAGE_TYPES,
    NO_TEXT,
    NULL_TS,
    READ,
    SENDERS,
    Chat,
    Customer,
    Dataset,
)

TIMESTAMP_STYLES = ("mixed", "int", "string")
CUSTOMER_TAIL = ("location", "device", "unsubscribed", "blocked", "source", "referer", "lastPage", "locale",
                 "createdFrom", "integrationId", "notes", "tags", "customData")


def _seconds(value: int | None, as_string: bool) -> int | str | None:
    if value is None:
        return None
    return str(value) if as_string else value


def agent_ref(ds: Dataset, agent_id: int | None) -> dict[str, Any] | None:
    """``{id, name, email, role}`` of an agent (chat ``assignee``/``agents``)."""
    if not agent_id:
        return None
    agent = ds.agents_by_id.get(agent_id)
    return dict(agent) if agent else {"id": agent_id, "name": None, "email": None, "role": None}


def chat(ds: Dataset, c: Chat, style: str, search: bool = False) -> dict[str, Any]:
    """A chat object; ``search`` selects the ``POST /chats/search`` flavour of the mixed style."""
    as_string = style == "string" or (style == "mixed" and search)
    log, last = c.messages, c.last_idx
    text_idx = log.text[last] if last >= 0 else NO_TEXT
    customer = ds.customers_by_id[c.customer_id]
    department = ds.departments_by_id.get(c.department_id) if c.department_id else None
    return {
        "id": c.id,
        "closedBy": c.closed_by,
        "lastCustomerMessageAt": _seconds(c.last_customer_message_at, as_string),
        "status": c.status,
        "closedAt": _seconds(c.closed_at, as_string),
        "rating": c.rating,
        "createdAt": _seconds(c.created_at, as_string),
        "lastMessageAt": _seconds(c.last_message_at, as_string),
        "readByAgent": c.read_by_agent,
        "readByCustomer": c.read_by_customer,
        "createdWith": c.created_with,
        "snoozedUntil": _seconds(c.snoozed_until, as_string),
        "lastMessageText": ds.texts[text_idx] if text_idx != NO_TEXT else None,
        "lastMessageId": log.ids[last] if last >= 0 else None,
        "applicationId": c.application_id,
        "lastCommunicatedAgentId": c.last_agent_id,
        "agents": [agent_ref(ds, a) for a in c.agent_ids],
        "customer": {"id": customer.id, "name": customer.record["name"], "email": customer.record["email"],
                     "userId": customer.record["userId"]},
        "assignee": agent_ref(ds, c.assignee_id),
        "department": {"id": department.id, "name": department.name} if department else None,
    }


def _millis(value: int, style: str) -> str | float | None:
    if value == NULL_TS:
        return None
    if style == "int":
        return value / 1000
    return f"{value // 1000}.{value % 1000:03d}"


def message(ds: Dataset, c: Chat, i: int, style: str) -> dict[str, Any]:
    """Message ``i`` (index in the chat's log) as ``GET /chats/{id}/messages`` serves it."""
    log = c.messages
    agent_id, text_idx, flags = log.agent[i], log.text[i], log.flags[i]
    agent = ds.agents_by_id.get(agent_id) if agent_id else None
    return {
        "id": log.ids[i],
        "agent": {"id": agent_id, "name": agent["name"] if agent else None} if agent_id else None,
        "type": MESSAGE_TYPES[log.kind[i]],
        "text": ds.texts[text_idx] if text_idx != NO_TEXT else None,
        "read": bool(flags & READ),
        "createdAt": _millis(log.created[i], style),
        "updatedAt": _millis(log.updated[i], style),
        "edited": bool(flags & EDITED),
        "broadcastType": BROADCAST_TYPES[log.broadcast[i]],
        "chat": c.id,
        "from": SENDERS[log.sender[i]],
    }


def customer(c: Customer, style: str) -> dict[str, Any]:
    """A customer object as ``GET /customers`` serves it."""
    r = c.record
    out: dict[str, Any] = {
        "id": c.id, "name": r["name"], "email": r["email"], "userId": r["userId"], "company": r["company"],
        "phone": r["phone"],
        "firstSeen": _seconds(c.first_seen, style != "int"),
        "lastSeen": _seconds(c.last_seen, style == "string" or (style == "mixed" and not c.last_seen_as_int)),
    }
    for key in CUSTOMER_TAIL:
        value = r[key]
        if isinstance(value, dict):
            value = dict(value)
        elif isinstance(value, list):
            value = [dict(v) for v in value]
        out[key] = value
    return out


def department(ds: Dataset, dep_id: int) -> dict[str, Any]:
    dep = ds.departments_by_id[dep_id]
    return {"id": dep.id, "name": dep.name, "agents": [agent_ref(ds, a) for a in dep.agent_ids]}
