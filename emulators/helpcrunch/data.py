"""Deterministic generator of the emulated HelpCrunch account: agents, departments, customers, chats, messages.

Everything derives from one ``random.Random(seed)`` and a fixed ``now``, so equal arguments give equal data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from emulators.helpcrunch import texts as tx
from emulators.helpcrunch.model import (
    AGENT,
    BROADCAST_TYPES,
    CUSTOMER,
    EDITED,
    EMAIL,
    KB,
    MSG,
    NO_TEXT,
    NULL_TS,
    PRIVATE,
    READ,
    STATUSES,
    TECH,
    Chat,
    Customer,
    Dataset,
    Department,
)

DAY = 86_400
HISTORY_DAYS = 90
APPLICATION_IDS = (1101, 1102, 2205)
STATUS_WEIGHTS = (8, 14, 8, 4, 3, 50, 6, 3)  # in the order of model.STATUSES
RATINGS = ("great", "average", "poor")
FIRST_CHAT_ID, FIRST_MESSAGE_ID, FIRST_CUSTOMER_ID = 5_200_000, 7_700_000, 9_740_000


@dataclass(frozen=True)
class Sizes:
    """How many records to generate."""

    chats: int = 300
    messages_per_chat: int = 10  # average; the total is exactly chats * messages_per_chat
    customers: int = 250
    agents: int = 8
    departments: int = 3

    @classmethod
    def scaled(cls, scale: float = 1.0, **overrides: int | None) -> Sizes:
        """Default sizes times ``scale`` (agents and departments stay fixed), then explicit overrides."""
        base = cls(chats=max(1, round(300 * scale)), customers=max(1, round(250 * scale)))
        values = {k: v for k, v in overrides.items() if v is not None}
        sizes = cls(**{**base.__dict__, **values})
        if sizes.chats < 0 or sizes.messages_per_chat < 0 or sizes.customers < 1 or sizes.agents < 1:
            raise ValueError(f"invalid sizes {sizes}")
        return sizes


class TextPool:
    """Message texts by category, as indices into the dataset's shared text list."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

        def add(values: list[str] | tuple[str, ...]) -> list[int]:
            start = len(self.texts)
            self.texts.extend(values)
            return list(range(start, len(self.texts)))

        self.customer = {loc: add(tx.CUSTOMER_TEXTS[loc]) for loc in tx.LOCALES}
        self.agent = {loc: add(tx.AGENT_TEXTS[loc]) for loc in tx.LOCALES}
        self.private = add(tx.PRIVATE_TEXTS)
        self.tech = add(tx.TECH_TEXTS)
        self.kb = add(tx.KB_TEXTS)
        self.email = add(tx.EMAIL_TEXTS)
        self.attachment = add(tx.ATTACHMENT_TEXTS)


def build_dataset(seed: int, now: int, sizes: Sizes) -> Dataset:
    """The whole account for ``seed``, with every timestamp at or before ``now`` (unix seconds)."""
    rng = random.Random(seed)
    agents = make_agents(rng, sizes.agents)
    departments = make_departments(rng, sizes.departments, [a["id"] for a in agents])
    customers = [make_customer(rng, FIRST_CUSTOMER_ID + 3 * i, now) for i in range(sizes.customers)]
    texts: list[str] = []
    pool = TextPool(texts)
    ds = Dataset(now=now, agents=agents, departments=departments, customers=customers, chats=[], texts=texts,
                 next_chat_id=0, next_message_id=0, next_customer_id=FIRST_CUSTOMER_ID + 3 * sizes.customers)
    _make_chats(rng, ds, pool, sizes)
    for chat in ds.chats:
        note_customer_activity(ds.customers_by_id[chat.customer_id], chat)
    ds.reindex()
    return ds


def make_agents(rng: random.Random, count: int) -> list[dict]:
    ids = rng.sample(range(2000, 9999), count)
    agents = []
    for i, agent_id in enumerate(ids):
        name, login = tx.AGENT_NAMES[i % len(tx.AGENT_NAMES)]
        suffix = "" if i < len(tx.AGENT_NAMES) else f" {i // len(tx.AGENT_NAMES) + 1}"
        role = "admin" if i == 0 else tx.AGENT_ROLES[i % len(tx.AGENT_ROLES)]
        agents.append({"id": agent_id, "name": name + suffix,
                       "email": f"{login}{suffix.strip()}@company.example", "role": role})
    return agents


def make_departments(rng: random.Random, count: int, agent_ids: list[int]) -> list[Department]:
    ids = rng.sample(range(100_000, 999_999), count)
    names = tx.DEPARTMENT_NAMES
    return [Department(dep_id, names[i % len(names)] + ("" if i < len(names) else f" {i}"),
                       sorted(rng.sample(agent_ids, min(len(agent_ids), rng.randint(2, 4)))))
            for i, dep_id in enumerate(ids)]


def make_customer(rng: random.Random, cid: int, now: int, first_seen: int | None = -1) -> Customer:
    """A customer; ``first_seen=-1`` draws one from the last 180 days (or ``None`` for some)."""
    locale = rng.choice(tx.LOCALES)
    first, first_latin = rng.choice(tx.FIRST_NAMES[locale])
    last, last_latin = rng.choice(tx.SURNAMES[locale])
    roll = rng.random()
    name = None if roll < 0.04 else first_latin if roll < 0.1 else f"{first} {last}"
    email = None if rng.random() < 0.1 else f"{first_latin}.{last_latin}{cid % 997}@{rng.choice(tx.EMAIL_DOMAINS)}"
    created_from = rng.choice(tx.CREATED_FROM)
    channel_key = tx.CHANNEL_ID_KEYS.get(created_from)
    channel_ids = {channel_key: str(rng.randrange(10**8, 10**10))} if channel_key else {}
    region, country, city = rng.choice(tx.LOCATIONS[locale])
    tags = [{"name": n, "color": c} for n, c in rng.sample(tx.TAGS, rng.choice((0, 0, 1, 1, 2, 3)))]
    custom_data = {} if rng.random() < 0.3 else {
        "subscription_status": rng.choice(("active", "trial", "cancelled")),
        "number_of_payments": rng.randint(0, 40), "last_paid_amount": round(rng.uniform(5, 500), 2),
        "last_payment_date": now - rng.randint(DAY, 200 * DAY),
        "last_invoice_url": f"https://example.com/invoice/{cid}.html",
        "last_payment_was_successful": rng.random() < 0.9}
    record = {
        "name": name, "email": email, "userId": f"user_{cid}" if rng.random() < 0.6 else None,
        "company": rng.choice(tx.COMPANIES) if rng.random() < 0.4 else None,
        "phone": f"{tx.PHONE_PREFIX[locale]}{rng.randrange(10**8, 10**9)}" if rng.random() < 0.5 else None,
        "location": {"regionCode": region, "countryCode": country, "city": city},
        "device": {"id": cid * 3 + 11, "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                   "timezone": tx.TIMEZONES[locale], "platform": rng.choice(("desktop", "desktop", "mobile")),
                   "userAgent": rng.choice(tx.USER_AGENTS)},
        "unsubscribed": rng.random() < 0.05, "blocked": rng.random() < 0.02,
        "source": "https://example.com", "referer": rng.choice(("https://google.com/", "https://example.com", None)),
        "lastPage": f"https://example.com/{rng.choice(('pricing', 'cennik', 'kontakty', 'help'))}",
        "locale": locale, "createdFrom": created_from,
        "integrationId": str(rng.randrange(10**8, 10**9)) if channel_key else None,
        "notes": rng.choice(tx.CUSTOMER_NOTES), "tags": tags, "customData": custom_data,
    }
    if first_seen == -1:
        first_seen = None if rng.random() < 0.08 else now - rng.randint(0, 180 * DAY)
    last_seen = None if first_seen is None else rng.randint(first_seen, now)
    return Customer(cid, record, first_seen, last_seen, rng.random() < 0.05, channel_ids)


def note_customer_activity(customer: Customer, chat: Chat) -> None:
    """Keep a customer's firstSeen/lastSeen consistent with a chat of theirs."""
    if customer.first_seen is not None and chat.created_at < customer.first_seen:
        customer.first_seen = chat.created_at
    seen = chat.last_customer_message_at
    if seen is not None and (customer.last_seen is None or seen > customer.last_seen):
        customer.last_seen = seen


def _message_counts(rng: random.Random, statuses: list[str], per_chat: int) -> list[int]:
    """Messages per chat: random, none for empty chats, summing to exactly ``len(statuses) * per_chat``."""
    if per_chat <= 0:
        return [0] * len(statuses)
    counts = [0 if s == "empty" else rng.randint(1, 2 * per_chat - 1) for s in statuses]
    live = [i for i, s in enumerate(statuses) if s != "empty"]
    diff = len(statuses) * per_chat - sum(counts)
    while diff and live:
        i = rng.choice(live)
        if diff > 0:
            step = min(diff, per_chat)
            counts[i] += step
            diff -= step
        elif counts[i] > 1:
            step = min(-diff, counts[i] - 1, per_chat)
            counts[i] -= step
            diff += step
    return counts


def _make_chats(rng: random.Random, ds: Dataset, pool: TextPool, sizes: Sizes) -> None:
    now = ds.now
    n = sizes.chats
    created = sorted(rng.randint(now - HISTORY_DAYS * DAY, now - 600) for _ in range(n))
    for i in range(1, n):
        if rng.random() < 0.05:  # chats sharing a createdAt second: page and cursor boundaries
            created[i] = created[i - 1]
    statuses = rng.choices(STATUSES, STATUS_WEIGHTS, k=n)
    if n >= len(STATUSES):
        for status, pos in zip(STATUSES, rng.sample(range(n), len(STATUSES)), strict=True):
            statuses[pos] = status
    counts = _message_counts(rng, statuses, sizes.messages_per_chat)
    agent_ids = [a["id"] for a in ds.agents]
    chat_id, message_id = FIRST_CHAT_ID, FIRST_MESSAGE_ID
    for i in range(n):
        chat_id += rng.randint(1, 9)
        chat = new_chat(rng, ds, chat_id, created[i], statuses[i], agent_ids)
        message_id = _fill_messages(rng, chat, counts[i], message_id, now * 1000, pool,
                                    ds.customers_by_id[chat.customer_id].record["locale"], agent_ids)
        finish_chat(rng, chat, now)
        ds.chats.append(chat)
    ds.next_chat_id, ds.next_message_id = chat_id + 1, message_id + 1


def new_chat(rng: random.Random, ds: Dataset, chat_id: int, created: int, status: str,
             agent_ids: list[int], customer: Customer | None = None) -> Chat:
    """A chat without messages: customer, assignee, department and how it was created."""
    department = rng.choice(ds.departments) if ds.departments and rng.random() < 0.6 else None
    assignee = None
    if status not in ("new", "empty") and rng.random() < 0.9:
        members = department.agent_ids if department and rng.random() < 0.8 else agent_ids
        assignee = rng.choice(members or agent_ids)
    if status == "no communication":
        created_with = rng.choice(("broadcast_reply", "agent_message", "public_api"))
    elif status in ("new", "empty"):
        created_with = "customer_message" if rng.random() < 0.85 else "public_api"
    else:
        r = rng.random()
        created_with = ("customer_message" if r < 0.7 else "broadcast_reply" if r < 0.82
                        else "agent_message" if r < 0.92 else "public_api")
    customer = customer or rng.choice(ds.customers)
    return Chat(id=chat_id, created_at=created, customer_id=customer.id, status=status, created_with=created_with,
                application_id=rng.choice(APPLICATION_IDS), updated_at=created, assignee_id=assignee,
                department_id=department.id if department else None)


def _fill_messages(rng: random.Random, chat: Chat, count: int, message_id: int, now_ms: int, pool: TextPool,
                   locale: str, agent_ids: list[int]) -> int:
    """Append ``count`` messages from the chat's creation towards now; returns the last message id used."""
    if count <= 0:
        return message_id
    start = min(chat.created_at * 1000 + rng.randrange(1000), now_ms)
    span = min(now_ms - start, int(rng.expovariate(1 / (DAY * 1000))) + 90_000 * count)
    offsets = sorted(rng.random() for _ in range(count - 1))
    main_agent = chat.assignee_id or rng.choice(agent_ids)
    customer_texts, agent_texts = pool.customer[locale], pool.agent[locale]
    status, created_with = chat.status, chat.created_with
    random_ = rng.random
    previous = start
    for j in range(count):
        at = start if j == 0 else start + int(offsets[j - 1] * span)
        if j and random_() < 0.02:
            at = previous  # two messages in the same millisecond
        previous = at
        agent, broadcast, kind = 0, 0, MSG
        if status == "new" or (j == 0 and created_with in ("customer_message", "public_api")):
            sender = CUSTOMER
        elif status == "no communication" or j == 0:
            sender, agent = AGENT, main_agent
            if j == 0 and created_with == "broadcast_reply":
                broadcast = rng.randint(1, len(BROADCAST_TYPES) - 1)
        else:
            r = random_()
            if r < 0.46:
                sender = CUSTOMER
            else:
                sender, agent = AGENT, (main_agent if random_() < 0.9 else rng.choice(agent_ids))
                if r >= 0.96:
                    kind, agent = KB, (agent if r < 0.98 else 0)
                elif r >= 0.93:
                    kind, sender = EMAIL, (AGENT if r < 0.95 else CUSTOMER)
                    agent = agent if sender == AGENT else 0
                elif r >= 0.88:
                    kind, agent = TECH, 0
                elif r >= 0.84:
                    kind = PRIVATE
                elif random_() < 0.02:
                    broadcast = rng.randint(1, len(BROADCAST_TYPES) - 1)
        text = _pick_text(rng, kind, sender, pool, customer_texts, agent_texts)
        r = random_()
        flags = (READ if r < 0.93 else 0) | (EDITED if r > 0.97 else 0)
        updated = NULL_TS if random_() < 0.1 else min(now_ms, at + rng.randrange(300_000)
                                                      + (3_600_000 if flags & EDITED else 0))
        message_id += rng.randint(1, 3)
        chat.add_message(message_id, at, updated, kind, sender, agent, text, flags, broadcast)
    return message_id


def _pick_text(rng: random.Random, kind: int, sender: int, pool: TextPool,
               customer_texts: list[int], agent_texts: list[int]) -> int:
    if kind == TECH:
        return rng.choice(pool.tech)
    if kind == PRIVATE:
        return rng.choice(pool.private)
    if kind == KB:
        return rng.choice(pool.kb)
    if kind == EMAIL:
        return rng.choice(pool.email)
    if sender == CUSTOMER:
        r = rng.random()
        if r < 0.04:
            return NO_TEXT  # an attachment without text
        return rng.choice(pool.attachment) if r < 0.1 else rng.choice(customer_texts)
    return rng.choice(agent_texts)


def finish_chat(rng: random.Random, chat: Chat, now: int) -> None:
    """Set the status-dependent fields (closing, rating, snooze, read flags) and the internal updatedAt."""
    last = chat.newest_message_ms // 1000 or chat.created_at
    bump = 0
    if chat.status == "closed":
        chat.closed_at = min(now, last + rng.randint(60, 2 * DAY))
        chat.closed_by = "agent" if rng.random() < 0.75 else "customer"
        if rng.random() < 0.4:
            chat.rating, bump = rng.choice(RATINGS), rng.randint(0, 120)
    elif chat.status in ("pending", "onhold", "on hold") and rng.random() < 0.3:
        chat.snoozed_until = min(now, last + rng.randint(3600, 3 * DAY))
    set_read_flags(chat)
    chat.updated_at = min(now, max(chat.created_at, last, chat.closed_at or 0, chat.snoozed_until or 0) + bump)


def set_read_flags(chat: Chat) -> None:
    """readByAgent/readByCustomer from the newest non-private message and its read flag."""
    log, idx = chat.messages, chat.last_idx
    if idx < 0:
        chat.read_by_agent, chat.read_by_customer = True, True
        return
    read = bool(log.flags[idx] & READ)
    from_agent = log.sender[idx] == AGENT
    chat.read_by_agent = from_agent or read
    chat.read_by_customer = (not from_agent) or read
