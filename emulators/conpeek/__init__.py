"""Emulated Conpeek REST API, written from ``shared/apis/conpeek.md`` and the seed page alone.

Documented behaviour [DOC]: paths at the host root (``GET /conversation_statistics_opened``,
``GET /message``); the raw key in ``Authorization`` with no scheme; ``{"data": [...]}`` with no total;
``limit`` (default 100, max 100), ``offset``, ``from_id``/``before_id`` ObjectId cursors and a JSON
``filter`` list of ``{"property", "operator"?, "value"}`` objects.

Assumptions where the docs are silent (all switchable where marked):

* Records are HYPOTHETICAL (the models are not public). Conversation-opened record: ``id``, ``ts``,
  ``project_id``, ``project_name``, ``conversation_type`` (``sms``, ``email``, ``webmessage``,
  ``poczta_glosowa``, ``whatsapp``, ``facebook``, ``fax``), ``conversation_id`` (an ObjectId distinct from
  ``id``), ``direction`` (``in``/``out``), ``peer_identifier``, ``channel_identifier``, ``tenant_user_id``
  (mostly null), ``subject`` (email only, else null). Message: ``id``, ``ts`` (event time),
  ``system_date`` (when stored: the second embedded in the id), ``conversation_id``, ``project_id``,
  ``tenant_user_id`` (null on inbound), ``message_type`` (the conversation type), ``direction``,
  ``channel_identifier``, ``peer_identifier``, ``text`` (Polish, emoji, newlines), ``attachment_count``.
  Times are ``YYYY-MM-DD HH:mm:ss`` UTC strings.
* The id key is ``id`` (option ``id_key="_id"``). Ids are ObjectIds minted by ``writers`` writers at
  write time = ``ts`` + 0–30 s (3 % of records: 1–60 min), never before ``ts``.
* The time filter property is ``date`` and ``ts`` as aliases (option ``time_property="date"``/``"ts"``
  accepts only one; the other is an unknown property). Its default operator is ``gte``.
* Cursors are exclusive: ``from_id`` → ids > from_id ascending; ``before_id`` → ids < before_id
  descending (option ``before_order="asc"``); both → ids strictly between, ascending; neither →
  ascending. Well-formed unknown ids are accepted; upper-case hex is accepted; empty values mean absent.
  Order of application: filter, cursor, offset, limit.
* ``limit`` > 100 is clamped to 100 (option ``limit_policy="reject"`` → 400); ``limit`` < 1 or a
  negative/non-integer ``offset`` → 400.
* Errors: ``{"error": {"code": ..., "message": ...}}``; 401 for a missing/unknown key (``Bearer <key>``
  included), 400 ``invalid_parameter``/``invalid_filter``, 429 ``too_many_requests``. No rate limit
  by default (``default_rate_limit = 0``).
* ``mutate(advance_seconds=3600, new_conversations=3, new_messages=12, late_records=2, new_field=None,
  late_count=0, late_hours=18)``: late records (one per table per count) have ``ts`` 5–30 min before the
  new "now" (``late_records``) or exactly ``late_hours`` before it (``late_count``: asynchronous
  statistics, e.g. 2–24 h late) and are written now; ``new_field=True`` gives every record written from
  then on a ``sentiment`` field.
* ``place(conversations=[{"ts", "written"?}], messages=[{"ts", "written"?, "conversation_id"?}])``
  (``POST /__emulator/place``) adds records at exact event and write seconds (:mod:`.place`).
* A ``date`` (or ``system_date``) filter and the ``from_id`` cursor combine freely, so a client may walk
  disjoint date partitions side by side, each with its own ``from_id``; a partition's walk ends as soon as
  no id can hold a record of its range (the largest write delay seen bounds that), without scanning on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from emulators.conpeek.api import ConpeekApi
from emulators.conpeek.data import ConpeekData, resolve_now

BASE_CONVERSATIONS = 500
BASE_MESSAGES = 3000


def create_api(*, seed: int = 1, scale: float = 1.0, api_keys: Iterable[str] = ("demo-conpeek-key",),
               now: datetime | str | float | None = None, days: int = 30, conversations: int | None = None,
               messages: int | None = None, writers: int = 4, id_key: str = "id", time_property: str = "both",
               limit_policy: str = "clamp", before_order: str = "desc") -> ConpeekApi:
    """Generate a Conpeek tenant (``scale`` 1.0: ~500 conversations, ~3,000 messages over ``days``)."""
    if id_key not in ("id", "_id"):
        raise ValueError(f"id_key must be 'id' or '_id', got {id_key!r}")
    messages = round(BASE_MESSAGES * scale) if messages is None else messages
    if conversations is None:  # messages belong to conversations: keep at least one
        conversations = max(1 if messages else 0, round(BASE_CONVERSATIONS * scale))
    data = ConpeekData(seed=seed, now=resolve_now(now), days=days, writers=writers, id_key=id_key,
                       conversations=conversations, messages=messages)
    return ConpeekApi(data, api_keys=api_keys, time_property=time_property, limit_policy=limit_policy,
                      before_order=before_order)


__all__ = ["ConpeekApi", "ConpeekData", "create_api"]
