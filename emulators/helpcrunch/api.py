"""The routes of the emulated HelpCrunch REST API v1 over a generated :class:`~model.Dataset`."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from emulators._server import EmulatedApi, Request, Response, Router
from emulators.helpcrunch import render
from emulators.helpcrunch.model import AGENT, CUSTOMER, Chat, Dataset
from emulators.helpcrunch.mutate import mutate
from emulators.helpcrunch.place import place
from emulators.helpcrunch.search import (
    BLANK,
    CHAT_FIELDS,
    CUSTOMER_FIELDS,
    DATE_OPERATOR_READINGS,
    NOT_VALID,
    ValidationError,
    compile_search,
    ordering,
    paging,
    sort_records,
)

INVALID_REQUEST = {"code": "invalid_request", "message": "Invalid request"}
CHAT_SORTS = {"chats.createdAt": "created_at", "chats.lastCustomerMessageAt": "last_customer_message_at",
              "chats.lastMessageAt": "last_message_at", "chats.closedAt": "closed_at"}
CHAT_SEARCH_SORTS = {**CHAT_SORTS, **{k.removeprefix("chats."): v for k, v in CHAT_SORTS.items()}}
CUSTOMER_SORTS = {"customers.firstSeen": "first_seen", "customers.lastSeen": "last_seen"}
CUSTOMER_SEARCH_SORTS = {**CUSTOMER_SORTS, "firstSeen": "first_seen", "lastSeen": "last_seen"}
DEFAULT_ORDER = ("created_at", True)  # assumption: newest chats first when sort/order are omitted
DEFAULT_CUSTOMER_ORDER = ("first_seen", True)
STATUS_INPUTS = {"new": "new", "open": "opened", "pending": "pending", "on-hold": "onhold",
                 "no communication": "no communication", "closed": "closed"}


class HelpCrunchApi(EmulatedApi):
    """HelpCrunch REST API v1: bearer auth, offset/limit pages, searches, the documented error envelope."""

    name = "helpcrunch"
    default_rate_limit = 120  # "The default overall requests limit is 120 per minute"

    def __init__(self, dataset: Dataset, *, seed: int = 1, api_keys: Iterable[str] = ("demo-helpcrunch-key",),
                 search_total: str = "meta", support_updated_at: bool = True, messages_key: str = "data",
                 timestamp_style: str = "mixed", real_clock: bool = False, max_page_size: int | None = None,
                 date_operators: str = "as_written") -> None:
        if search_total not in ("meta", "top"):
            raise ValueError(f"search_total must be 'meta' or 'top', not {search_total!r}")
        if messages_key not in ("data", "messages"):
            raise ValueError(f"messages_key must be 'data' or 'messages', not {messages_key!r}")
        if timestamp_style not in render.TIMESTAMP_STYLES:
            raise ValueError(f"timestamp_style must be one of {render.TIMESTAMP_STYLES}, not {timestamp_style!r}")
        self.ds = dataset
        self.seed = seed
        self.api_keys = frozenset([api_keys] if isinstance(api_keys, str) else api_keys)
        self.search_total, self.messages_key, self.style = search_total, messages_key, timestamp_style
        self.chat_fields = dict(CHAT_FIELDS)
        if not support_updated_at:
            del self.chat_fields["chats.updatedAt"]
        self.real_clock = real_clock
        self.max_page_size: int | None = None
        self.date_operators = "as_written"
        self.placements = 0
        self.last_served = 0  # wall-clock second of the latest answer
        self.mutations = 0
        self.lock = threading.RLock()
        self.configure(max_page_size=max_page_size, date_operators=date_operators)
        self.router = Router()
        for method, path, func in (
            ("GET", "/v1/chats", self.list_chats),
            ("POST", "/v1/chats/search", self.search_chats),
            ("PUT", "/v1/chats/status", self.update_chat_status),
            ("GET", "/v1/chats/{chat_id}", self.get_chat),
            ("GET", "/v1/chats/{chat_id}/messages", self.list_messages),
            ("POST", "/v1/messages", self.create_message),
            ("GET", "/v1/customers", self.list_customers),
            ("POST", "/v1/customers/search", self.search_customers),
            ("POST", "/v1/customers", self.create_customer),
            ("GET", "/v1/customers/{customer_id}", self.get_customer),
            ("GET", "/v1/agents", self.list_agents),
            ("GET", "/v1/departments", self.list_departments),
        ):
            self.router.route(method, path)(func)

    # -- hooks -------------------------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str) -> Response:
        errors = [{"code": code, "message": message}]
        if status in (400, 401, 429):
            errors.insert(0, dict(INVALID_REQUEST))
        return Response(status, {"errors": errors})

    def credential(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        return key.strip() if scheme.lower() == "bearer" and key.strip() else None

    def empty_page(self, response: Response) -> Response:
        payload = response.payload
        if isinstance(payload, dict):
            for key in ("data", "messages"):
                if isinstance(payload.get(key), list):
                    return Response(response.status, {**payload, key: []}, dict(response.headers))
        return response

    def handle(self, request: Request) -> Response:
        if self.credential(request) not in self.api_keys:
            return self.error(401, "unauthorized", "Unauthorized")
        with self.lock:
            self.last_served = max(self.last_served, int(time.time()))
            return super().handle(request)

    def mutate(self, **params: Any) -> dict[str, Any]:
        with self.lock:
            self.mutations += 1
            rng = random.Random(f"{self.seed}:mutate:{self.mutations}")
            # on the wall clock, a change cannot predate an answer already given: it happens after it
            not_before = self.last_served if self.real_clock else 0
            return mutate(self.ds, rng, real_clock=self.real_clock, not_before=not_before, **params)

    def place(self, **params: Any) -> dict[str, Any]:
        """Chats at exact times (see :mod:`emulators.helpcrunch.place`); a bad spec raises ``ValueError``."""
        with self.lock:
            self.placements += 1
            return place(self.ds, random.Random(f"{self.seed}:place:{self.placements}"), **params)

    def config(self) -> dict[str, Any]:
        return {"max_page_size": self.max_page_size, "date_operators": self.date_operators}

    def configure(self, **options: Any) -> None:
        """Set ``max_page_size`` (records per page at most, whatever ``limit`` asks; ``None``: off) and
        ``date_operators`` (see :data:`~emulators.helpcrunch.search.DATE_OPERATOR_READINGS`)."""
        unknown = set(options) - set(self.config())
        if unknown:
            raise ValueError(f"unknown config key(s) {', '.join(sorted(unknown))}; known: {', '.join(self.config())}")
        size = options.get("max_page_size", self.max_page_size)
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise ValueError(f"max_page_size must be a positive integer or null, got {size!r}")
        reading = options.get("date_operators", self.date_operators)
        if reading not in DATE_OPERATOR_READINGS:
            raise ValueError(f"date_operators must be one of {', '.join(DATE_OPERATOR_READINGS)}, got {reading!r}")
        with self.lock:
            self.max_page_size, self.date_operators = size, reading

    def _paging(self, offset: Any, limit: Any, errors: list[tuple[str, str]]) -> tuple[int, int]:
        """``(offset, limit)`` validated, the limit cut to ``max_page_size`` (``meta``/``total`` stay whole)."""
        offset, limit = paging(offset, limit, errors)
        return offset, min(limit, self.max_page_size) if self.max_page_size else limit

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every record as the GET list endpoints serve it (messages oldest first per chat, private notes included)."""
        with self.lock:
            ds, style = self.ds, self.style
            chats = sorted(ds.chats, key=attrgetter("id"))
            return {
                "chats": [render.chat(ds, c, style) for c in chats],
                "messages": [render.message(ds, c, i, style) for c in chats for i in range(len(c.messages))],
                "customers": [render.customer(c, style) for c in sorted(ds.customers, key=attrgetter("id"))],
                "agents": [render.agent_ref(ds, a["id"]) or {} for a in self._agents()],
                "departments": [render.department(ds, d.id) for d in sorted(ds.departments, key=attrgetter("id"))],
            }

    # -- helpers -----------------------------------------------------------------------------------------
    def _invalid(self, errors: list[tuple[str, str]]) -> Response:
        body = [dict(INVALID_REQUEST)] + [{"code": code, "message": message} for code, message in errors]
        return Response(400, {"errors": body})

    def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            raise ValidationError([("body", "This value should be valid JSON.")]) from None
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ValidationError([("body", "This value should be of type object.")])
        return body

    def _chat(self, request: Request) -> Chat | None:
        raw = request.path_params.get("chat_id", "")
        return self.ds.chats_by_id.get(int(raw)) if raw.isdigit() else None

    def _agents(self) -> list[dict[str, Any]]:
        return sorted(self.ds.agents, key=lambda a: a["id"])

    def _search(self, request: Request, fields: dict, sorts: dict[str, str],
                default: tuple[str, bool], records: list) -> tuple[list, int]:
        """Validate a search body and return ``(page records, number of matches)``."""
        errors: list[tuple[str, str]] = []
        body = self._body(request)
        try:
            predicate = compile_search(body, fields, self.date_operators)
        except ValidationError as exc:
            errors.extend(exc.errors)
            predicate = None
        offset, limit = self._paging(body.get("offset"), body.get("limit"), errors)
        attr, descending = ordering(body.get("sort"), body.get("order"), sorts, default, errors)
        if errors or predicate is None:
            raise ValidationError(errors)
        ds = self.ds
        matched = [r for r in records if predicate(ds, r)]
        ordered = sort_records(matched, attrgetter(attr), descending)
        return ordered[offset:offset + limit], len(matched)

    # -- chats -------------------------------------------------------------------------------------------
    def list_chats(self, request: Request) -> Response:
        errors: list[tuple[str, str]] = []
        offset, limit = self._paging(request.arg("offset"), request.arg("limit"), errors)
        attr, descending = ordering(request.arg("sort"), request.arg("order"), CHAT_SORTS, DEFAULT_ORDER, errors)
        if errors:
            return self._invalid(errors)
        page = sort_records(self.ds.chats, attrgetter(attr), descending)[offset:offset + limit]
        return Response(200, {"data": [render.chat(self.ds, c, self.style) for c in page],
                              "meta": {"total": len(self.ds.chats)}})

    def get_chat(self, request: Request) -> Response:
        chat = self._chat(request)
        if chat is None:
            return self.error(404, "chat_not_found", "Chat not found")
        return Response(200, render.chat(self.ds, chat, self.style))

    def search_chats(self, request: Request) -> Response:
        try:
            page, total = self._search(request, self.chat_fields, CHAT_SEARCH_SORTS, DEFAULT_ORDER,
                                             self.ds.chats)
        except ValidationError as exc:
            return self._invalid(exc.errors)
        data = [render.chat(self.ds, c, self.style, search=True) for c in page]
        if self.search_total == "top":
            return Response(200, {"data": data, "total": total})
        return Response(200, {"data": data, "meta": {"total": total}})

    def list_messages(self, request: Request) -> Response:
        chat = self._chat(request)
        if chat is None:
            return self.error(404, "chat_not_found", "Chat not found")
        errors: list[tuple[str, str]] = []
        offset, limit = self._paging(request.arg("offset"), request.arg("limit"), errors)
        if errors:
            return self._invalid(errors)
        total = len(chat.messages)
        newest = total - 1 - offset  # the log is oldest first; serve newest first
        indices = range(newest, max(newest - limit, -1), -1)
        data = [render.message(self.ds, chat, i, self.style) for i in indices]
        return Response(200, {self.messages_key: data, "total": total})

    # -- customers, agents, departments ------------------------------------------------------------------
    def list_customers(self, request: Request) -> Response:
        errors: list[tuple[str, str]] = []
        offset, limit = self._paging(request.arg("offset"), request.arg("limit"), errors)
        attr, descending = ordering(request.arg("sort"), request.arg("order"), CUSTOMER_SORTS,
                                    DEFAULT_CUSTOMER_ORDER, errors)
        if errors:
            return self._invalid(errors)
        page = sort_records(self.ds.customers, attrgetter(attr), descending)[offset:offset + limit]
        return Response(200, {"data": [render.customer(c, self.style) for c in page],
                              "total": len(self.ds.customers)})

    def get_customer(self, request: Request) -> Response:
        raw = request.path_params.get("customer_id", "")
        customer = self.ds.customers_by_id.get(int(raw)) if raw.isdigit() else None
        if customer is None:
            return self.error(404, "customer_not_found", "Customer not found")
        return Response(200, render.customer(customer, self.style))

    def search_customers(self, request: Request) -> Response:
        try:
            page, total = self._search(request, CUSTOMER_FIELDS, CUSTOMER_SEARCH_SORTS,
                                             DEFAULT_CUSTOMER_ORDER, self.ds.customers)
        except ValidationError as exc:
            return self._invalid(exc.errors)
        return Response(200, {"data": [render.customer(c, self.style) for c in page], "total": total})

    def _listing(self, request: Request, records: list[dict[str, Any]]) -> Response:
        errors: list[tuple[str, str]] = []
        offset, limit = self._paging(request.arg("offset"), request.arg("limit"), errors)
        if errors:
            return self._invalid(errors)
        return Response(200, {"data": records[offset:offset + limit], "meta": {"total": len(records)}})

    def list_agents(self, request: Request) -> Response:
        return self._listing(request, [dict(a) for a in self._agents()])

    def list_departments(self, request: Request) -> Response:
        deps = sorted(self.ds.departments, key=attrgetter("id"))
        return self._listing(request, [render.department(self.ds, d.id) for d in deps])

    # -- documented write endpoints: answered, logged, never applied to the dataset -----------------------
    def create_message(self, request: Request) -> Response:
        try:
            body = self._body(request)
        except ValidationError as exc:
            return self._invalid(exc.errors)
        chat_id = body.get("chat")
        chat = self.ds.chats_by_id.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            return Response(400, {"errors": [{"code": "invalid_chat_value", "message": "Invalid chat ID"}]})
        kind, text = body.get("type", "message"), body.get("text") or body.get("markdownText")
        if kind not in ("message", "private") or not isinstance(text, str):
            return self._invalid([("type", NOT_VALID)] if kind not in ("message", "private") else [("text", BLANK)])
        agent_id = body.get("agent")
        agent = self.ds.agents_by_id.get(agent_id) if isinstance(agent_id, int) else None
        now = f"{self.ds.now}.000"
        return Response(201, {"id": self.ds.next_message_id, "agent": {"id": agent["id"], "name": agent["name"]}
                              if agent else None, "type": kind, "text": text, "read": False, "createdAt": now,
                              "updatedAt": None, "edited": False, "broadcastType": None, "chat": chat.id,
                              "from": ("customer", "agent")[AGENT if agent else CUSTOMER]})

    def update_chat_status(self, request: Request) -> Response:
        try:
            body = self._body(request)
        except ValidationError as exc:
            return self._invalid(exc.errors)
        status = STATUS_INPUTS.get(body.get("status")) if isinstance(body.get("status"), str) else None
        if status is None:
            return Response(400, {"errors": [{"code": "invalid_chat_value", "message": "status value is invalid"}]})
        chat_id = body.get("id")
        chat = self.ds.chats_by_id.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            return self.error(404, "chat_not_found", "Chat not found")
        return Response(200, {**render.chat(self.ds, chat, self.style), "status": status})

    def create_customer(self, request: Request) -> Response:
        try:
            body = self._body(request)
        except ValidationError as exc:
            return self._invalid(exc.errors)
        user_id = body.get("userId")
        if user_id is not None and any(c.record["userId"] == user_id for c in self.ds.customers):
            return Response(400, {"errors": [{"code": "invalid_userId_value", "message": "userId already exists"}]})
        fields = ("name", "email", "userId", "company", "phone")
        record = {"id": self.ds.next_customer_id, **{k: body.get(k) for k in fields},
                  "firstSeen": None, "lastSeen": None}
        return Response(201, {**record, **{k: body[k] for k in ("notes", "customData") if k in body}})
