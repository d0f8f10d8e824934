"""Fill a local library fast for a benchmark: `LocalBackend.fill_unchecked`, one transaction per
20k rows, no per-image checks (benchmarks only, never the product). Shared by bench_tui,
bench_cli and bench_catalogue (run as scripts: this folder is on sys.path)."""

from __future__ import annotations

import pathlib
import time

CREATORS = ["alice", "bob", "carol", None]


async def fill_library(path: pathlib.Path, count: int, data: bytes, *, digits: int = 6) -> float:
    """`count` copies of `data` as bench/<n>.png (n zero-padded to `digits`); seconds taken."""
    from imgtui.backends.local import LocalBackend

    started = time.perf_counter()
    backend = LocalBackend(path)
    batch = 20_000
    for start in range(0, count, batch):
        rows = [
            (f"bench/{n:0{digits}d}.png", data, CREATORS[n % 4])
            for n in range(start, min(start + batch, count))
        ]
        await backend.fill_unchecked(rows)
    await backend.aclose()
    return time.perf_counter() - started
