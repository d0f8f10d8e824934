"""A least-recently-used cache bounded by the bytes its values hold (not by their count).

Cached values (preview thumbnails, originals up to 10 MiB, rendered variants) vary in size by
three orders of magnitude, so a count bound would either waste memory or hold almost nothing.
Not thread-safe: each user keeps it on one thread (the TUI's event loop, the server's loop).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteBudgetLRU(Generic[K, V]):
    def __init__(self, budget_bytes: int, cost: Callable[[V], int]) -> None:
        self.budget_bytes = budget_bytes
        self._cost = cost
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.used_bytes = 0

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V) -> None:
        """Store `value`; a value larger than the whole budget is simply not kept."""
        self.pop(key)
        cost = max(1, self._cost(value))
        if cost > self.budget_bytes:
            return
        self._entries[key] = (value, cost)
        self.used_bytes += cost
        while self.used_bytes > self.budget_bytes:
            _, (_, evicted_cost) = self._entries.popitem(last=False)
            self.used_bytes -= evicted_cost

    def pop(self, key: K) -> V | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self.used_bytes -= entry[1]
        return entry[0]

    def discard_where(self, predicate: Callable[[K], bool]) -> int:
        """Drop every entry whose key matches; returns how many went."""
        doomed = [key for key in self._entries if predicate(key)]
        for key in doomed:
            self.pop(key)
        return len(doomed)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
