"""The demo library's clock: spread upload times, so sorting the demo visibly changes it."""

from __future__ import annotations

import time
from collections.abc import Callable

# Minutes between one demo upload and the next, cycled: uneven, so sorting by upload time
# visibly reorders the list and no two images share a minute.
_DEMO_GAPS_MIN = (3, 17, 6, 41, 2, 9, 128, 12, 5, 33, 1, 22)


class DemoClock:
    """`Images.local(path, clock=DemoClock())` for `--demo`: while the demo set is uploaded
    (between `start` and `stop`) it answers backdated times spread over the past hours and
    days; otherwise the real time, so the user's own uploads are stamped now."""

    def __init__(self, now_ms: Callable[[], int] | None = None) -> None:
        self._now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self._backdated: list[int] = []

    def start(self, count: int) -> None:
        gaps = [_DEMO_GAPS_MIN[index % len(_DEMO_GAPS_MIN)] * 60_000 for index in range(count)]
        first = self._now_ms() - sum(gaps)
        times, at = [], first
        for gap in gaps:
            times.append(at)
            at += gap
        self._backdated = times[::-1]  # popped from the end: oldest first

    def stop(self) -> None:
        self._backdated = []

    def __call__(self) -> int:
        return self._backdated.pop() if self._backdated else self._now_ms()
