"""Filtered, deterministically shuffled result sets with a small cache.

The Reporter API documents no sort order, so results come in a shuffle: a permutation seeded by the
dataset seed and its ``generation`` (bumped on every change). Pages of one unchanged dataset are
consistent; after any change the order is different, so a client cannot rely on it.
"""

from __future__ import annotations

import random
from array import array
from collections import OrderedDict
from collections.abc import Sequence

from emulators.jaicp.data import Dataset, mix64
from emulators.jaicp.filters import Compiled

SCOPES = ("sessions", "messages", "clients")


class Selector:
    """Selects the indices of ``sessions``/``messages``/``clients`` matching compiled filters, shuffled."""

    def __init__(self, ds: Dataset, cache_size: int = 16) -> None:
        self.ds = ds
        self.cache_size = cache_size
        self._orders: dict[str, tuple[int, array, array]] = {}
        self._cache: OrderedDict[tuple[str, str, int], array] = OrderedDict()

    def count(self, scope: str) -> int:
        ds = self.ds
        return {"sessions": len(ds.s_start), "messages": len(ds.m_ts), "clients": len(ds.c_ids)}[scope]

    def order(self, scope: str) -> tuple[array, array]:
        """The permutation of ``scope`` for the current generation, and its inverse (rank of each index)."""
        cached = self._orders.get(scope)
        if cached and cached[0] == self.ds.generation:
            return cached[1], cached[2]
        n = self.count(scope)
        perm_list = list(range(n))
        random.Random(mix64(self.ds.seed * 7919 + self.ds.generation * 31 + SCOPES.index(scope))).shuffle(perm_list)
        perm = array("i", perm_list)
        del perm_list
        rank = array("i", bytes(4 * n))
        for pos, idx in enumerate(perm):
            rank[idx] = pos
        self._orders[scope] = (self.ds.generation, perm, rank)
        return perm, rank

    def select(self, scope: str, flt: Compiled) -> Sequence[int]:
        """Indices of ``scope`` matching ``flt`` in shuffled order (cached per generation)."""
        key = (scope, flt.key, self.ds.generation)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        perm, rank = self.order(scope)
        if flt.empty:
            result = perm
        else:
            ds = self.ds
            if scope == "sessions":
                matches = [j for j in range(len(ds.s_start)) if flt.session_ok(j)]
            elif scope == "clients":
                matches = [k for k in range(len(ds.c_ids)) if flt.client_ok(k)]
            else:
                matches = []
                for j in range(len(ds.s_start)):
                    if flt.session_own_ok(j):
                        matches.extend(flt.session_messages(j))
            matches.sort(key=rank.__getitem__)
            result = array("i", matches)
        self._cache[key] = result
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return result
