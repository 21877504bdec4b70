"""Emulated HelpCrunch REST API v1 (``/v1/chats``, messages, customers, agents, departments).

Written from ``shared/apis/helpcrunch.md`` and the HelpCrunch docs seed only. ``create_api()`` builds a
deterministic account from ``seed`` and serves it; its options switch between the behaviours the
documentation leaves open. Assumptions where the docs are silent:

* ``GET /chats`` and ``POST /chats/search`` default to ``chats.createdAt`` desc, customers to
  ``customers.firstSeen`` desc; null sort values come last in both orders; ties go by id in the same direction.
* ``limit`` outside 1..100, a non-integer limit/offset, a negative offset, an unknown ``sort`` or ``order``, a
  missing/empty ``filter``, an unknown filter field, a disallowed operator or a value of the wrong type are
  400s: ``{"errors": [invalid_request, {"code": "<limit|sort|filter[i].field|...>", "message"}]}``.
* Filter values: Integer/Date fields take ints or numeric strings; String fields (``chats.status`` too) need
  strings; arrays (``tagsData``) only ``=`` meaning "has all these tags". String matching is case-insensitive.
  A null field matches no comparison (SQL-like), ``chats.agents != x`` means "x is not among the agents".
* ``chats.agents`` = agents with at least one message (private notes included); ``lastCommunicatedAgentId`` =
  agent of the newest non-private agent message; ``lastMessage*`` = newest non-private message (tech included).
* Empty chats have no messages (``lastMessageId/At/Text`` null); ``snoozedUntil`` is always in the past.
* Unknown chat → 404 ``chat_not_found``; unknown customer → 404 ``customer_not_found``.
* The write endpoints answer plausibly (201/200) but never change the data.
* Search operators on Date fields (``chats.createdAt >= t``) compare as written: the docs give the operator
  table for customers only, so the ``date_operators`` switch serves the other readings too.

Admin: ``mutate`` lets time pass (:mod:`.mutate`); ``place(chats=[...])`` (``POST /__emulator/place``)
adds chats and messages at exact times (:mod:`.place`); ``max_page_size`` and ``date_operators`` are
switchable through ``POST /__emulator/config``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from emulators.helpcrunch.api import HelpCrunchApi
from emulators.helpcrunch.data import Sizes, build_dataset


def create_api(*, seed: int = 1, scale: float = 1.0, now: float | str | datetime | None = None,
               chats: int | None = None, messages_per_chat: int | None = None, customers: int | None = None,
               agents: int | None = None, departments: int | None = None,
               api_keys: Iterable[str] | str = ("demo-helpcrunch-key",), search_total: str = "meta",
               support_updated_at: bool = True, messages_key: str = "data",
               timestamp_style: str = "mixed", max_page_size: int | None = None,
               date_operators: str = "as_written") -> HelpCrunchApi:
    """Build the emulated API.

    ``scale`` 1.0 gives 300 chats x 10 messages, 250 customers, 8 agents, 3 departments; ``chats``,
    ``messages_per_chat``, ``customers``, ``agents``, ``departments`` override single sizes. ``now`` (unix
    seconds, a datetime or an ISO string, naive meaning UTC; default: the wall clock) is the instant all data
    lies before.
    ``search_total``: ``"meta"`` (``{"data", "meta": {"total"}}``) or ``"top"`` (``{"data", "total"}``) for
    ``POST /chats/search``. ``support_updated_at=False`` rejects the ``chats.updatedAt`` filter as unknown.
    ``messages_key``: ``"data"`` or ``"messages"``. ``timestamp_style``: ``"mixed"``, ``"int"`` or ``"string"``.
    Run-time switches (also keys of ``POST /__emulator/config``): ``max_page_size`` serves at most that many
    records per page whatever ``limit`` asks (``meta.total``/``total`` stay whole; default: off);
    ``date_operators`` reads ``>``, ``<``, ``>=``, ``<=`` on Date fields ``"as_written"`` (default),
    ``"inclusive"`` (``>``/``<`` act as ``>=``/``<=``) or ``"exclusive"`` (``>=``/``<=`` act as ``>``/``<``).
    """
    real_clock = now is None
    if now is None:
        now = time.time()
    elif isinstance(now, str | datetime):
        moment = datetime.fromisoformat(now) if isinstance(now, str) else now
        now = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    sizes = Sizes.scaled(scale, chats=chats, messages_per_chat=messages_per_chat, customers=customers,
                         agents=agents, departments=departments)
    dataset = build_dataset(seed, int(now), sizes)
    return HelpCrunchApi(dataset, seed=seed, api_keys=api_keys, search_total=search_total,
                         support_updated_at=support_updated_at, messages_key=messages_key,
                         timestamp_style=timestamp_style, real_clock=real_clock, max_page_size=max_page_size,
                         date_operators=date_operators)


__all__ = ["HelpCrunchApi", "create_api"]
