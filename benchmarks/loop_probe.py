"""What the TUI benchmarks share to watch a running app (run as scripts: this folder is on
sys.path): the app's imports made as the launcher makes them, the event-loop stall probe,
polling for widget state, the peak RSS."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable

PROBE_INTERVAL = 0.005


def import_like_the_cli():
    """The app's imports as `imgtui` makes them: the cyclic GC off meanwhile, then what they
    built frozen and the GC back on (imgtui/cli.py, imgtui/ui/cli.py). The app then freezes
    its start-up objects once more after the first rows, as it does for real. Without this a
    child times full collections over ~1M start-up objects (25-50 ms each, measured in the
    grid's first screen) that the real app never runs."""
    import gc

    gc.disable()
    try:
        from imgtui.service import Images
        from imgtui.ui.app import ImgTuiApp
        from imgtui.ui.config import UiConfig
    finally:
        gc.freeze()
        gc.enable()
    return Images, ImgTuiApp, UiConfig


class LoopLagProbe:
    """Sleeps PROBE_INTERVAL in a loop; any extra delay is time the event loop was blocked."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(PROBE_INTERVAL)
            self.worst = max(self.worst, loop.time() - started - PROBE_INTERVAL)

    def __enter__(self) -> LoopLagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def poll_until(predicate: Callable[[], bool], within: float = 120.0) -> None:
    """Wait for widget state: the app exposes no event for it, and 1 ms polling is precise enough."""
    deadline = time.perf_counter() + within
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there")
        await asyncio.sleep(0.001)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def ok_or_missed(passed: bool) -> str:
    """A target's verdict in the benchmarks' tables."""
    return "ok" if passed else "MISSED"
