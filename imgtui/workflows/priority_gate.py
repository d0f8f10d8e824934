"""A semaphore whose waiters go in priority order (lower number first, then first come).

The grid asks for dozens of thumbnails at once; only a few may fetch or decode at a time, and
the cursor's neighbourhood must go first. A waiter whose task is cancelled (its cell scrolled
away) leaves the queue without ever taking a slot, so it costs nothing. Event-loop only.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class PriorityGate:
    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self._free = slots
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def queued(self) -> int:
        """Waiters still wanting a slot (cancelled ones are not counted)."""
        return sum(1 for _, _, waiter in self._waiters if not waiter.done())

    async def acquire(self, priority: int = 0) -> None:
        if self._free > 0 and self.queued == 0:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot in the same tick it was cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1
