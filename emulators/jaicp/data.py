"""The generated JAICP dataset, stored column-wise in ``array``s so that a million messages stay small.

Clients and sessions are few enough for Python lists; messages live in typed arrays and become dicts only
when a response is built (``render.py``). Everything derives from ``seed``; times run over the ``days``
before ``now_ms`` (epoch milliseconds, UTC).
"""

from __future__ import annotations

import random
import threading
from array import array
from bisect import bisect_left, bisect_right
from typing import Any

from emulators.jaicp import phrases as P

DAY_MS = 86_400_000
MASK64 = (1 << 64) - 1
SESSION_SALT, QUESTION_SALT = 1, 2
_M48 = (1 << 48) - 1
_ODD = 0x5DEECE66D  # odd: multiplying by it mod 2**48 is a bijection, undone by _ODD_INV
_ODD_INV = pow(_ODD, -1, 1 << 48)


def mix64(x: int) -> int:
    """splitmix64: a cheap, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


class Dataset:
    """Clients, sessions and messages of one JAICP project, plus label, experiment and report catalogues."""

    def __init__(self, *, seed: int, sessions: int, clients: int, messages_per_session: float, days: int,
                 now_ms: int, project: str, account_id: int, bots: int) -> None:
        self.seed, self.project, self.account_id, self.days = seed, project, account_id, days
        self.now_ms = now_ms
        self.mps = max(1.0, messages_per_session)
        self.lock = threading.RLock()
        self.generation = 0  # bumped on every change; salts the result order and keys the caches
        self.rng = random.Random(seed)
        self.bots = [f"{account_id}-{project}-{49199 + i}" for i in range(max(1, bots))]
        self._id_mask = {salt: mix64(seed * 31 + salt) & _M48 for salt in range(8)}
        # clients
        self.c_ids: list[str] = []
        self.c_channel = bytearray()
        self.c_bot = bytearray()
        self.c_lang = bytearray()  # 0 ru, 1 en
        self.c_names: list[tuple[str | None, str | None, str | None]] = []
        self.c_sessions: list[list[int]] = []  # session indices by start time
        self.c_blocked: dict[int, tuple[str | None, int, int]] = {}  # reason, blockedBy, blockDate
        self.c_key: dict[tuple[int, str], int] = {}
        # sessions
        self.s_client = array("i")
        self.s_start = array("q")
        self.s_transfer = bytearray()  # 1 when transferred to an operator (isLivechat)
        self.s_operator = bytearray()
        self.s_result = bytearray()  # 0 none, else SESSION_RESULTS[v - 1]
        self.s_msgs: list[array] = []
        self.s_labels: dict[int, list[int]] = {}
        self.s_exp: dict[int, tuple[str, int]] = {}  # experiment key, branch index
        self.s_call: dict[int, tuple[int, bool]] = {}  # callTaskId (0: none), isCallIncoming
        # messages
        self.m_session = array("i")
        self.m_ts = array("q")
        self.m_phrase = array("H")
        self.m_proc = array("i")
        self.m_live = bytearray()
        self.m_status = bytearray()
        self.m_status_ts = array("q")
        self.m_labels: dict[int, list[int]] = {}
        self.m_comment: dict[int, str] = {}
        self.m_exception: set[int] = set()
        # catalogues
        self.session_labels = {i: (n, p) for i, n, p in P.SESSION_LABELS}
        self.label_groups = {i: (n, p) for i, n, p in P.MESSAGE_LABEL_GROUPS}
        self.message_labels = {i: (n, p, g) for i, n, p, g in P.MESSAGE_LABELS}
        self.experiments: dict[str, dict[str, Any]] = {
            k: {"key": k, "description": d, "status": s,
                "branches": [{"key": bk, "description": bd} for bk, bd in br]}
            for k, d, s, br in P.EXPERIMENTS}
        self.reports: dict[int, dict[str, Any]] = {}
        self._by_kind = {(lang, kind): P.phrase_indices(lang, kind)
                         for lang in ("ru", "en") for kind in ("start", "normal", "transfer", "operator", "bye")}
        self._generate(max(1, sessions), max(1, min(clients, sessions)))

    # -- ids ---------------------------------------------------------------------------------------
    def make_id(self, salt: int, idx: int) -> str:
        """A UUID-shaped id whose last group encodes ``idx`` (so no lookup table is needed)."""
        h = mix64((self.seed << 20) ^ (salt << 56) ^ idx)
        g = mix64(h)
        return (f"{h >> 32:08x}-{(h >> 16) & 0xFFFF:04x}-4{h & 0xFFF:03x}-{8 | (g >> 62):x}{(g >> 48) & 0xFFF:03x}-"
                f"{_scramble(idx) ^ self._id_mask[salt]:012x}")

    def parse_id(self, salt: int, value: str, limit: int) -> int | None:
        """The index encoded in an id made by :meth:`make_id`, ``None`` when it is not one of ours."""
        tail = value[-12:]
        if len(tail) != 12 or any(c not in "0123456789abcdef" for c in tail):
            return None
        idx = _unscramble(int(tail, 16) ^ self._id_mask[salt])
        return idx if 0 <= idx < limit and self.make_id(salt, idx) == value else None

    def session_id(self, j: int) -> str:
        return self.make_id(SESSION_SALT, j)

    def question_id(self, i: int) -> str:
        return self.make_id(QUESTION_SALT, i)

    def find_session(self, value: str) -> int | None:
        return self.parse_id(SESSION_SALT, value, len(self.s_start))

    def find_message(self, value: str) -> int | None:
        return self.parse_id(QUESTION_SALT, value, len(self.m_ts))

    # -- derived fields ----------------------------------------------------------------------------
    def channel(self, j: int) -> str:
        return P.CHANNELS[self.c_channel[self.s_client[j]]]

    def bot(self, j: int) -> str:
        return self.bots[self.c_bot[self.s_client[j]]]

    def last_activity(self, j: int) -> int:
        """Epoch ms of the end of session ``j``: its last answer, or its start when it has no messages."""
        msgs = self.s_msgs[j]
        return self.m_ts[msgs[-1]] + self.m_proc[msgs[-1]] if msgs else self.s_start[j]

    def duration(self, j: int) -> int:
        """Session length in milliseconds (assumption: the spec does not give the unit)."""
        return self.last_activity(j) - self.s_start[j]

    def client_last_visit(self, k: int) -> int:
        return max(self.last_activity(j) for j in self.c_sessions[k])

    def client_last_session(self, k: int) -> int:
        return self.c_sessions[k][-1]

    def client_join(self, k: int) -> int:
        return self.s_start[self.c_sessions[k][0]]

    def messages_between(self, j: int, lo: int | None, hi: int | None) -> array | list[int]:
        """The messages of session ``j`` with ``lo <= timestamp <= hi`` (each bound optional, inclusive)."""
        msgs = self.s_msgs[j]
        a = 0 if lo is None else bisect_left(msgs, lo, key=self.m_ts.__getitem__)
        b = len(msgs) if hi is None else bisect_right(msgs, hi, key=self.m_ts.__getitem__)
        return msgs[a:b]

    def bump(self) -> None:
        """Record a change: new result order, stale caches."""
        self.generation += 1

    # -- generation --------------------------------------------------------------------------------
    def _generate(self, n_sessions: int, n_clients: int) -> None:
        rng = self.rng
        for _ in range(n_clients):
            self.add_client(rng)
        owners = list(range(n_clients)) + [rng.randrange(n_clients) for _ in range(n_sessions - n_clients)]
        rng.shuffle(owners)
        day0 = self.now_ms // DAY_MS * DAY_MS
        for j, k in enumerate(owners):
            n = 0 if rng.random() < 0.03 else rng.randint(1, max(1, round(2 * self.mps) - 1))
            special = j % 50
            if special in (7, 13):
                n = max(n, 4)
            offsets = self.message_offsets(rng, n, same_ms=special == 13, channel=P.CHANNELS[self.c_channel[k]])
            span = offsets[-1] + 3_000 if offsets else 0
            if special == 7:  # straddles midnight UTC: half the messages before, half after
                midnight = day0 - rng.randint(1, max(1, self.days - 2)) * DAY_MS
                start = midnight - offsets[n // 2] + 1
            else:
                start = rng.randint(self.now_ms - self.days * DAY_MS, max(self.now_ms - self.days * DAY_MS,
                                                                          self.now_ms - span - 1_000))
            self.add_session(rng, k, start, offsets)
        for sessions in self.c_sessions:
            sessions.sort(key=self.s_start.__getitem__)
        for k in range(n_clients):
            if rng.random() < 0.03:
                when = min(self.now_ms, self.client_last_visit(k) + rng.randint(60_000, DAY_MS))
                self.c_blocked[k] = (rng.choice(("spam", "abuse", None)), 1001 + rng.randrange(3), when)

    @staticmethod
    def message_offsets(rng: random.Random, n: int, *, same_ms: bool = False, channel: str = "") -> list[int]:
        """Cumulative ms offsets of ``n`` messages from the session start."""
        lo, hi = (2_000, 15_000) if channel == P.TELEPHONY else (3_000, 90_000)
        out, t = [], rng.randint(0, 1_500)
        for m in range(n):
            if m:
                t += 0 if (same_ms and m == 1) or rng.random() < 0.01 else rng.randint(lo, hi)
            out.append(t)
        return out

    def add_client(self, rng: random.Random, channel: int | None = None) -> int:
        """Create one client (with no session yet) and return its index."""
        k = len(self.c_ids)
        if channel is None:
            channel = rng.choices(range(len(P.CHANNELS)), P.CHANNEL_WEIGHTS)[0]
        ch, bot, lang = P.CHANNELS[channel], rng.randrange(len(self.bots)), 0 if rng.random() < 0.75 else 1
        while True:
            cid = _client_id(rng, ch, lang)
            if (bot, cid) not in self.c_key:
                break
        code = ("ru", "en")[lang]
        first, last = rng.choice(P.FIRST_NAMES[code]), rng.choice(P.LAST_NAMES[code])
        user = f"{P.LATIN.get(first, first.lower())}_{rng.randint(1, 999)}"
        names: tuple[str | None, str | None, str | None] = {
            "telegram": (first, last if rng.random() < 0.7 else None, user if rng.random() < 0.8 else None),
            "viber": (first, last, None), "vk": (first, last, None),
            "chatwidget": (first if rng.random() < 0.3 else None, None, None),
            "resterisk": (None, None, None), "whatsapp": (first, None, None),
        }[ch]
        self.c_ids.append(cid)
        self.c_channel.append(channel)
        self.c_bot.append(bot)
        self.c_lang.append(lang)
        self.c_names.append(names)
        self.c_sessions.append([])
        self.c_key[(bot, cid)] = k
        return k

    def add_session(self, rng: random.Random, k: int, start: int, offsets: list[int]) -> int:
        """Create a session of client ``k`` with messages at ``start + offsets``; returns its index."""
        j = len(self.s_start)
        lang, ch, n = ("ru", "en")[self.c_lang[k]], P.CHANNELS[self.c_channel[k]], len(offsets)
        transfer_at = rng.randint(1, n - 2) if n >= 3 and rng.random() < 0.12 else -1
        self.s_client.append(k)
        self.s_start.append(start)
        self.s_transfer.append(transfer_at >= 0)
        self.s_operator.append(rng.randrange(len(P.OPERATORS)))
        result = 3 if transfer_at >= 0 else (0 if n == 0 or rng.random() < 0.3 else rng.choice((1, 2, 4, 5)))
        self.s_result.append(result)
        self.s_msgs.append(array("i"))
        self.c_sessions[k].append(j)
        if rng.random() < 0.35:
            self.s_labels[j] = sorted(rng.sample(sorted(self.session_labels), rng.randint(1, 2)))
        if rng.random() < 0.4:
            exp = P.EXPERIMENTS[0 if rng.random() < 0.75 else 1]
            self.s_exp[j] = (exp[0], rng.randrange(len(exp[3])))
        if ch == P.TELEPHONY:
            incoming = rng.random() < 0.6
            self.s_call[j] = (0 if incoming else rng.randint(100_000, 9_999_999), incoming)
        for m, offset in enumerate(offsets):
            if m == 0:
                starts = self._by_kind[(lang, "start")]
                phrase = starts[2] if ch == P.TELEPHONY else starts[0] if ch in P.STATUS_CHANNELS else starts[1]
            elif m == transfer_at:
                phrase = rng.choice(self._by_kind[(lang, "transfer")])
            elif 0 <= transfer_at < m:
                phrase = rng.choice(self._by_kind[(lang, "operator")])
            elif m == n - 1 and rng.random() < 0.5:
                phrase = rng.choice(self._by_kind[(lang, "bye")])
            else:
                phrase = rng.choice(self._by_kind[(lang, "normal")])
            self.add_message(rng, j, start + offset, phrase, 0 <= transfer_at < m)
        return j

    def add_message(self, rng: random.Random, j: int, ts: int, phrase: int, live: bool) -> int:
        """Append one message to session ``j`` (``ts`` must not precede its last message)."""
        i = len(self.m_ts)
        ch = self.channel(j)
        proc = rng.randint(200, 3_000) if ch == P.TELEPHONY else rng.randint(40, 1_500)
        self.m_session.append(j)
        self.m_ts.append(ts)
        self.m_phrase.append(phrase)
        self.m_proc.append(proc)
        self.m_live.append(live)
        status, status_ts = 0, 0
        ladder = P.STATUS_LADDER.get(ch)
        if ladder:
            age = self.now_ms - ts
            if rng.random() < 0.03:
                status = P.STATUS_FAILURE[ch]
            elif age > DAY_MS:  # mostly confirmed; some never are
                status = ladder[-1] if rng.random() < 0.8 else rng.choice(ladder[:-1])
            else:
                status = ladder[min(len(ladder) - 1, int(age * len(ladder) // (DAY_MS // 4)))]
            status_ts = min(self.now_ms, ts + proc + rng.randint(100, 60_000))
            status_ts = max(status_ts, ts)
        self.m_status.append(status)
        self.m_status_ts.append(status_ts)
        self.s_msgs[j].append(i)
        roll = rng.random()
        if roll < 0.08:
            self.m_labels[i] = [rng.choice(sorted(self.message_labels))]
        elif roll < 0.09:
            self.m_comment[i] = rng.choice(("Проверить ответ", "Check this answer", "Ответ устарел"))
        elif roll < 0.1:
            self.m_exception.add(i)
        return i


def _scramble(x: int) -> int:
    """A bijection of 48-bit integers that spreads small indices over the whole range."""
    x = x * _ODD & _M48
    x ^= x >> 24
    x = x * _ODD & _M48
    return x ^ (x >> 24)


def _unscramble(x: int) -> int:
    x ^= x >> 24  # x ^= x >> 24 is its own inverse on 48 bits
    x = x * _ODD_INV & _M48
    x ^= x >> 24
    return x * _ODD_INV & _M48


def _client_id(rng: random.Random, channel: str, lang: int) -> str:
    """A channel-shaped client id: numeric for Telegram/VK, base64-like for Viber, phone for calls/WhatsApp."""
    if channel == "telegram":
        return str(rng.randint(100_000_000, 6_999_999_999))
    if channel == "vk":
        return str(rng.randint(1_000_000, 799_999_999))
    if channel == "viber":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        return "".join(rng.choice(alphabet) for _ in range(22)) + "=="
    if channel == "chatwidget":
        h = rng.getrandbits(128)
        return f"{h >> 96:08x}-{(h >> 80) & 0xFFFF:04x}-{(h >> 64) & 0xFFFF:04x}-{(h >> 48) & 0xFFFF:04x}-" \
               f"{h & 0xFFFFFFFFFFFF:012x}"
    prefix = "79" if lang == 0 else "447"
    return prefix + "".join(str(rng.randrange(10)) for _ in range(11 - len(prefix) + 1))
