"""The budget counts a request from its answer: no window the server measures holds more than the limit."""

from __future__ import annotations

import threading
import time

from sources._http import RateLimiter, per_window


def test_a_request_counts_from_its_answer_and_holds_a_slot_meanwhile() -> None:
    limiter = RateLimiter(limit=2, period=0.3)
    limiter.reserve()
    limiter.reserve()  # two in flight: the budget is used up until one is answered
    blocked = threading.Event()

    def third() -> None:
        limiter.reserve()
        blocked.set()

    waiter = threading.Thread(target=third)
    waiter.start()
    time.sleep(0.2)
    assert not blocked.is_set()
    limiter.release()  # answered now: it leaves the window 0.3 s from now, not from when it was sent
    answered = time.monotonic()
    waiter.join(2)
    assert blocked.is_set() and time.monotonic() - answered >= 0.3 - 0.02
    limiter.release()
    limiter.release()


def test_per_window_budget() -> None:
    assert per_window(1200, 6) == 120 and per_window(120, 60) == 120
    assert per_window(0, 6) == 0 and per_window(5, 1) == 1  # never below one request per window
