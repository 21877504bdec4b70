"""Every page a full load needs, fetched over HTTP once and saved as served: the input of the ``read_json``
baseline, and a measure of what the HTTP round trips alone cost (no pipeline, no JSON -> rows work).

Pages are saved raw, one file per response, under ``DIR/<table>/``. The walk asks for the pages a full load
needs at the maximum page size, as a client discovers them (a cursor walk one page after another). Every request
it made is kept in ``DIR/requests.json``: :func:`refetch` sends them all again with four connections, the
baseline of issue 12 (a client that knew every page in advance and kept four connections busy).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson

PAGE_SIZE = 100
JAICP_PAGE_SIZE = 1000  # the largest size the emulated Reporter API accepts (the spec documents none)
CONCURRENCY = 4
ITEMS_KEYS = ("data", "messages", "sessions", "clients")
START_SECONDS = 1_420_070_400  # 2015-01-01 UTC, the sources' default start date


class PageSaver:
    """Sends requests on keep-alive connections and writes each answer body to ``DIR/<table>/<n>.json``."""

    def __init__(self, base_url: str, headers: dict[str, str], folder: Path) -> None:
        self.base_url, self.folder = base_url.rstrip("/"), folder
        limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY * 2)
        self.http = httpx.Client(headers=headers, limits=limits, timeout=120)
        self.bytes = 0
        self.tables: dict[str, dict[str, int]] = {}  # table -> {"requests": n, "records": n}
        self.items_keys: dict[str, str] = {}  # table -> the envelope key of its record list
        self.index: dict[str, str] = {}  # replay key -> saved file (see replay_key)
        self.sent: list[dict[str, Any]] = []  # every request, in order: method, url, params, body (see refetch)
        self._lock = threading.Lock()

    def get(self, table: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        method = "POST" if body is not None else "GET"
        response = self.http.request(method, self.base_url + path, params=params, json=body)
        response.raise_for_status()
        content = response.content
        replay = replay_key(response.request)
        data = orjson.loads(content)
        key = next((k for k in ITEMS_KEYS if isinstance(data, dict) and isinstance(data.get(k), list)), None)
        items = data[key] if key else data
        with self._lock:
            self.sent.append({"method": method, "url": self.base_url + path, "params": params, "body": body})
            self.items_keys.setdefault(table, key or "data")
            counts = self.tables.setdefault(table, {"requests": 0, "records": 0})
            number = counts["requests"]
            counts["requests"] += 1
            counts["records"] += len(items) if isinstance(items, list) else 0
            self.bytes += len(content)
            self.index[replay] = f"{table}/{number:07d}.json"
        target = self.folder / table
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{number:07d}.json").write_bytes(content)
        return data

    def close(self) -> None:
        self.http.close()


def offset_pages(fetch: Callable[[int], Any], key: str = "data") -> Iterator[list[dict[str, Any]]]:
    """Offset/limit paging by the answer's total (``meta.total`` or ``total``)."""
    offset = 0
    while True:
        data = fetch(offset)
        items = data.get(key) or data.get("messages") or []
        total = (data.get("meta") or {}).get("total", data.get("total"))
        if not items:
            return
        yield items
        offset += len(items)
        if total is not None and offset >= int(total):
            return


def helpcrunch_pages(saver: PageSaver) -> None:
    search = {"filter": [{"field": "chats.createdAt", "operator": ">=", "value": START_SECONDS}], "comparison": "AND",
              "sort": "chats.createdAt", "order": "asc", "limit": PAGE_SIZE}
    chat_ids = [chat["id"] for page in offset_pages(
        lambda offset: saver.get("chats", "/chats/search", body={**search, "offset": offset}))
        for chat in page if chat.get("lastMessageId") is not None]

    def messages(chat_id: int) -> None:
        path = f"/chats/{chat_id}/messages"
        for _ in offset_pages(lambda offset: saver.get("messages", path, {"offset": offset, "limit": PAGE_SIZE})):
            pass

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(messages, chat_ids))
    listing = {"customers": ("/customers", {"sort": "customers.firstSeen", "order": "asc"}),
               "agents": ("/agents", {}), "departments": ("/departments", {})}
    for table, (path, params) in listing.items():
        for _ in offset_pages(lambda offset, t=table, p=path, q=params:
                              saver.get(t, p, {**q, "offset": offset, "limit": PAGE_SIZE})):
            pass


def conpeek_pages(saver: PageSaver) -> None:
    query_filter = json.dumps([{"property": "date", "operator": "gte", "value": "2015-01-01 00:00:00"}])

    def walk(table: str, path: str) -> None:
        cursor = f"{START_SECONDS:08x}" + "0" * 16  # the source's first cursor: the lowest ObjectId of its start
        while True:
            params: dict[str, Any] = {"limit": PAGE_SIZE, "filter": query_filter}
            if cursor:
                params["from_id"] = cursor
            items = saver.get(table, path, params)["data"]
            if not items:
                return
            cursor = max(item["id"] for item in items)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda args: walk(*args), [("conversation_statistics_opened", "/conversation_statistics_opened"),
                                                   ("messages", "/message")]))


def jaicp_pages(saver: PageSaver) -> None:
    """One window over all time: the three listings at the largest page size, then the delivery statuses of
    the sessions in status channels (one ``messages/by-session`` call each, as the source makes them)."""
    everything = {"from": "2019-01-01T00:00:00.000Z", "to": "2100-01-01T00:00:00.000Z", "type": "DATE_TIME_RANGE"}
    listings = {"sessions": ("/sessions/filter", "MESSAGE_TIME", {"needToReturnSessionLabels": "true"}),
                "messages": ("/messages/filter", "MESSAGE_TIME", {}),
                "clients": ("/clients/filter", "CLIENT_LAST_ACTIVITY_TIME", {})}
    status_sessions: list[tuple[str, str]] = []
    for table, (path, key, params) in listings.items():
        page = 0
        while True:
            data = saver.get(table, path, {**params, "page": page, "size": JAICP_PAGE_SIZE},
                             body={"filters": [{**everything, "key": key}]})
            items = data.get(table) or []
            if table == "sessions":
                status_sessions += [(x["sessionId"], x.get("botId")) for x in items
                                    if str(x.get("channelType")).lower() in JAICP_STATUS_CHANNELS]
            page += 1
            if not items or page * JAICP_PAGE_SIZE >= int(data["paging"]["totalCount"]):
                break

    def statuses(item: tuple[str, str]) -> None:
        saver.get("statuses", "/messages/by-session",
                  {"sessionId": item[0], "botId": item[1], "page": 0, "size": JAICP_PAGE_SIZE})

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(statuses, status_sessions))


JAICP_STATUS_CHANNELS = ("telegram", "viber", "vk")  # the source's default status channels
WALKS: dict[str, Callable[[PageSaver], None]] = {"helpcrunch": helpcrunch_pages, "conpeek": conpeek_pages,
                                                 "jaicp": jaicp_pages}
AUTH = {"helpcrunch": lambda key: {"Authorization": f"Bearer {key}"}, "conpeek": lambda key: {"Authorization": key},
        "jaicp": lambda key: {"Timezone": "0"}}


def credential(source: str) -> str:
    """The source's key or token, from the environment the parent set (``SOURCES__<SOURCE>__API_KEY|TOKEN``)."""
    return os.environ[f"SOURCES__{source.upper()}__" + ("TOKEN" if source == "jaicp" else "API_KEY")]


def fetch_pages(source: str, folder: Path) -> dict[str, Any]:
    """Fetch and save every page of ``source`` (configured by ``SOURCES__<SOURCE>__*``); timed."""
    key = credential(source)
    base_url = os.environ[f"SOURCES__{source.upper()}__BASE_URL"]
    if source == "jaicp":  # the old generation: the token is in the path
        base_url = base_url.rstrip("/") + "/reporter/p/" + quote(key, safe=":")
    saver = PageSaver(base_url, AUTH[source](key), folder)
    started = time.perf_counter()
    try:
        WALKS[source](saver)
    finally:
        saver.close()
    (folder / "items_keys.json").write_text(json.dumps(saver.items_keys))
    (folder / "index.json").write_text(json.dumps(saver.index))
    (folder / "requests.json").write_text(json.dumps(saver.sent))
    return {"seconds": time.perf_counter() - started, "bytes": saver.bytes, "tables": saver.tables,
            "requests": sum(t["requests"] for t in saver.tables.values()),
            "records": sum(t["records"] for t in saver.tables.values())}


def refetch(source: str, folder: Path, concurrency: int = CONCURRENCY) -> dict[str, Any]:
    """Send every request the walk made (``DIR/requests.json``) again, ``concurrency`` at a time on keep-alive
    connections, and time it: the minimum pages, fetched as fast as four connections allow. Bodies are read and
    dropped (the saved pages are the same)."""
    key = credential(source)
    sent = json.loads((folder / "requests.json").read_text())
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(headers=AUTH[source](key), limits=limits, timeout=120) as http:

        def send(item: dict[str, Any]) -> int:
            response = http.request(item["method"], item["url"], params=item["params"], json=item["body"])
            response.raise_for_status()
            return len(response.content)

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            received = sum(pool.map(send, sent))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "requests": len(sent), "bytes": received, "connections": concurrency}


def replay_key(request: httpx.Request) -> str:
    """What tells two pages of a full load apart: method, path and the paging position (``offset`` in the
    query or the search body, ``from_id``, ``page``); the filters of a full load do not vary."""
    position = request.url.params.get("offset") or request.url.params.get("from_id") or request.url.params.get("page")
    if position is None and request.content:
        body = orjson.loads(request.content)
        position = body.get("offset") if isinstance(body, dict) else None
    return f"{request.method} {request.url.path} {position}"


class ReplayTransport(httpx.BaseTransport):
    """Answers each request with the page saved for its :func:`replay_key`: the pipeline without HTTP."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index: dict[str, str] = json.loads((folder / "index.json").read_text())
        self.date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        name = self.index.get(replay_key(request))
        if name is None:
            return httpx.Response(404, json={"error": f"not saved: {replay_key(request)}"})
        return httpx.Response(200, content=(self.folder / name).read_bytes(),
                              headers={"Content-Type": "application/json", "Date": self.date})
