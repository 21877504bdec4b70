"""One resource's ``from_id`` walk within a window, its time range cut into partitions walked side by side.

``from_id`` is a sequential cursor: one walk is one request at a time. The documented ``date`` filter lets a walk
be cut into time partitions, each walked by its own ``from_id`` from the lowest ObjectId of its start (a record is
written no earlier than its time: README assumption 12). A walk starts as one partition; once it has shown it is
long, a walker with nothing to do takes the second half of the time still ahead of the partition with the most
left (its ``date`` range ends where the new one begins, from its next request on). Records of the new half that the
old walker had already passed are read twice and merged; none is skipped.

The walk's state (``walk`` in the resource's state, committed with each window) is::

    {"since": iso, "until": iso | None, "newest": iso | None, "newest_ids": [...], "requests": n,
     "partitions": [{"from": iso, "to": iso | None, "position": id | None, "done": bool}, ...]}

A partition's ``position`` is the largest id of the pages handed on (committed), so a window that closes, or a run
that is killed, resumes every partition where its committed pages end.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sources._common.run_context import SourceRun
from sources._common.timestamps import to_utc
from sources._common.windows import WindowBudget, latest
from sources.conpeek import settings as s
from sources.conpeek.client import (
    OBJECT_ID,
    ConpeekClient,
    Filter,
    NewestSecond,
    Page,
    floor_id,
    page_ids,
    page_lateness,
    page_times,
)

_ENDED, _STOPPED = object(), object()
LONG_WALK_PAGES = 16  # a walk whose first pages show at least this many pages ahead is cut into partitions


def _smallest_id(records: list[Any]) -> str | None:
    ids = [str(r.get("id") or r.get("_id") or "") for r in records if isinstance(r, dict)]
    ids = [ident for ident in ids if OBJECT_ID.match(ident.lower())]
    return min(ids).lower() if ids else None


@dataclass(eq=False)
class Partition:
    """A time range of a walk and how far its walk has come (the attributes the client reads each request)."""

    start: datetime
    end: datetime | None
    position: str | None  # the largest id handed on
    done: bool = False
    walking: str | None = None  # the largest id its walker has read (ahead of position while pages wait)

    def left(self, now: datetime) -> float:
        """Seconds of its time range still ahead of its walker (by the ObjectId second it stands at)."""
        at = self.walking or self.position
        passed = datetime.fromtimestamp(int(at[:8], 16), UTC) if at and OBJECT_ID.match(at) else self.start
        return max(0.0, ((self.end or now) - max(self.start, passed)).total_seconds())

    def split(self, now: datetime) -> Partition:
        """The second half of the time ahead of it, as a new partition; this one ends where that begins."""
        ahead = self.left(now)
        middle = (self.end or now) - timedelta(seconds=math.floor(ahead / 2))
        new = Partition(middle, self.end, floor_id(middle))
        self.end = middle
        return new

    def state(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat() if self.end else None,
                "position": self.position, "done": self.done}

    @classmethod
    def of(cls, state: dict[str, Any]) -> Partition:
        return cls(to_utc(state["from"]), to_utc(state.get("to")), state.get("position"),  # type: ignore[arg-type]
                   bool(state.get("done")))


class PartitionedWalk:
    """The window's part of one resource's walk (see the module docstring).

    Args:
        client: the run's client; its limiter decides how many requests are really in flight.
        walk: the walk's state, updated as pages are handed on.
        workers: the most partitions walked at once.
    """

    def __init__(self, client: ConpeekClient, run: SourceRun, name: str, filters: list[Filter],
                 walk: dict[str, Any], budget: WindowBudget, cursor_field: str, workers: int) -> None:
        self.client, self.run, self.name, self.filters, self.walk = client, run, name, filters, walk
        self.budget, self.cursor_field, self.workers = budget, cursor_field, max(1, workers)
        if "partitions" not in walk:
            walk["partitions"] = [{"from": walk["since"], "to": walk.get("until"), "position": None}]
        self.partitions = [Partition.of(p) for p in walk["partitions"]]
        self._out: queue.Queue[tuple[Partition, Any, str | None]] = queue.Queue()
        self._closing = threading.Event()
        self._walking: set[int] = set()
        self._pages = 0
        self._first_id: str | None = None  # the smallest ObjectId the walk met first (where its id time began)

    def pages(self) -> Generator[Page, None, bool]:
        """Pages of the window's walk; returns True once every partition has reached its end."""
        newest, newest_time = NewestSecond(self.walk["newest_ids"]), to_utc(self.walk["newest"])
        counted, before = self.client.api.stats.requests, self.walk.get("requests", 0)
        at_start = counted[self.name]
        batch: list[Any] = []
        moved: dict[int, str | None] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=f"conpeek-{self.name}") as pool:
            try:
                self._schedule(pool)
                while self._walking:
                    part, item, position = self._out.get()
                    index = self.partitions.index(part)
                    if item is _ENDED or item is _STOPPED:
                        self._walking.discard(index)
                        part.done = part.done or item is _ENDED
                        if item is _ENDED:
                            moved.setdefault(index, part.position)
                    elif isinstance(item, BaseException):
                        raise item
                    else:
                        batch.extend(item)
                        moved[index] = position
                        self._pages += 1
                        self._first_id = self._first_id or _smallest_id(item)
                    if batch and (len(batch) >= s.BATCH_RECORDS or not self._walking or self.budget.spent()):
                        page, batch = self.client.shape(self.name, batch), []
                        newest_time = latest(newest_time, page_times(page, self.cursor_field))
                        for ident in page_ids(page):
                            newest.add(ident)
                        if (late := page_lateness(page, self.cursor_field)) is not None:
                            self.run.saw_lateness(late)
                        yield page
                        for moved_index, moved_to in moved.items():  # handed on: their positions hold
                            self.partitions[moved_index].position = moved_to
                        moved.clear()
                        self.walk.update(newest=newest_time.isoformat() if newest_time else None,
                                         newest_ids=sorted(newest.ids))
                    if self.budget.spent():
                        self._closing.set()
                    else:
                        self._schedule(pool)
            finally:
                self._closing.set()
            self.walk["partitions"] = [p.state() for p in self.partitions]
            self.walk["requests"] = before + counted[self.name] - at_start
        return all(p.done for p in self.partitions)

    # -- walkers ----------------------------------------------------------------------------------------------
    def _schedule(self, pool: ThreadPoolExecutor) -> None:
        """Start walkers while there is room: partitions not yet walked, else halves of the ones with most left."""
        while len(self._walking) < self._room():
            index = next((i for i, p in enumerate(self.partitions) if not p.done and i not in self._walking), None)
            if index is None:
                index = self._split()
            if index is None:
                return
            self._walking.add(index)
            pool.submit(self._walker, self.partitions[index])

    def _room(self) -> int:
        """Walkers wanted: as many as requests may be in flight (and one more, to find out if more may be), once
        the walk has shown it is long; one before."""
        if len(self.partitions) == 1 and not self._long():
            return 1
        allowed = getattr(self.client.api.limiter, "concurrency", self.workers)
        return min(self.workers, math.floor(allowed) + 1)

    def _long(self) -> bool:
        """Whether the walk's first pages show many more ahead: the time left of its range against the span of
        ObjectId seconds the pages so far covered (a nightly walk of a day's records stays one partition)."""
        part, last = self.partitions[0], self.partitions[0].walking
        if not (self._pages and self._first_id and last and OBJECT_ID.match(last)):
            return False
        covered = max(1, int(last[:8], 16) - int(self._first_id[:8], 16))
        return part.left(datetime.now(UTC)) / covered * self._pages >= LONG_WALK_PAGES

    def _split(self) -> int | None:
        now = datetime.now(UTC)
        busy = [p for i, p in enumerate(self.partitions) if i in self._walking and not p.done]
        widest = max(busy, key=lambda p: p.left(now), default=None)
        if widest is None or widest.left(now) < 2 * s.SMALLEST_PARTITION_SECONDS or not self.client.synthetic_from_id:
            return None
        self.partitions.append(widest.split(now))
        return len(self.partitions) - 1

    def _walker(self, part: Partition) -> None:
        try:
            for page, position in self.client.walk(self.name, part, self.filters, part.position):  # type: ignore[arg-type]
                part.walking = position
                self._out.put((part, page, position))
                if self._closing.is_set():
                    self._out.put((part, _STOPPED, None))
                    return
            self._out.put((part, _ENDED, None))
        except BaseException as exc:  # handed to the resource, raised there
            self._out.put((part, exc, None))
