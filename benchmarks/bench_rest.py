"""Round trips per second through `imgtui serve`: our REST client vs the official SDK.

    .venv/bin/python benchmarks/bench_rest.py [--rounds N]

Both clients talk to the same emulator (real loopback TCP, server on its own thread and event
loop, library in a temporary directory). Also prints the import time of each client.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

import cloudflare
from PIL import Image

from imgtui.emulator import BackgroundEmulator, ServeSettings
from imgtui.service import Images

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-token"
SEEDED = 200


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (seed % 256, (seed * 7) % 256, 90)).save(out, "PNG")
    return out.getvalue()


async def _rate(rounds: int, operation: Callable[[int], Awaitable[object]]) -> float:
    """Operations per second, sequential (one round trip at a time)."""
    await operation(-1)  # warm the connection
    started = time.perf_counter()
    for i in range(rounds):
        await operation(i)
    return rounds / (time.perf_counter() - started)


async def _concurrent_rate(rounds: int, width: int, operation: Callable[[int], Awaitable[object]]) -> float:
    await operation(-1)
    semaphore = asyncio.Semaphore(width)

    async def one(i: int) -> None:
        async with semaphore:
            await operation(i)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(rounds)))
    return rounds / (time.perf_counter() - started)


async def _ours(api_url: str, rounds: int) -> dict[str, float]:
    async with Images.cloudflare(ACCOUNT, TOKEN, base_url=api_url) as images:
        handle = images.hosted.image("seed/0")

        async def upload(i: int) -> object:
            return await images.hosted.upload(_png(i), id=f"ours/{i}")

        return {
            "details": await _rate(rounds, lambda i: handle.details()),
            "details x8 concurrent": await _concurrent_rate(rounds, 8, lambda i: handle.details()),
            "list page (50)": await _rate(rounds, lambda i: images.hosted.list(limit=50)),
            "blob (read bytes)": await _rate(rounds, lambda i: handle.read()),
            "upload": await _rate(rounds, upload),
        }


async def _sdk(api_url: str, rounds: int) -> dict[str, float]:
    async with cloudflare.AsyncCloudflare(api_token=TOKEN, base_url=api_url) as client:
        v1 = client.images.v1

        async def upload(i: int) -> object:
            return await v1.create(account_id=ACCOUNT, file=(f"{i}.png", _png(i), "image/png"), id=f"sdk/{i}")

        async def blob(i: int) -> bytes:
            response = await v1.blobs.get("seed/0", account_id=ACCOUNT)
            return await response.read()

        return {
            "details": await _rate(rounds, lambda i: v1.get("seed/0", account_id=ACCOUNT)),
            "details x8 concurrent": await _concurrent_rate(
                rounds, 8, lambda i: v1.get("seed/0", account_id=ACCOUNT)
            ),
            "list page (50)": await _rate(
                rounds, lambda i: client.images.v2.list(account_id=ACCOUNT, per_page=50)
            ),
            "blob (read bytes)": await _rate(rounds, blob),
            "upload": await _rate(rounds, upload),
        }


def _import_ms(module: str, runs: int = 5) -> float:
    """Median wall time of `import module` in a fresh interpreter (startup excluded)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(samples) * 1000


async def _seed(api_url: str) -> None:
    async with Images.cloudflare(ACCOUNT, TOKEN, base_url=api_url) as images:
        for i in range(SEEDED):
            await images.hosted.upload(_png(i), id=f"seed/{i}", metadata={"i": i})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300, help="operations per measurement (default 300)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = ServeSettings(library=pathlib.Path(tmp) / "lib", port=0, api_token=TOKEN)
        with BackgroundEmulator(settings) as server:
            asyncio.run(_seed(server.api_url))
            # Uploads use distinct ids per client: each run starts after the other's.
            ours = asyncio.run(_ours(server.api_url, args.rounds))
            sdk = asyncio.run(_sdk(server.api_url, args.rounds))

    print(
        f"imgtui serve on loopback, {SEEDED} images seeded, {args.rounds} operations each (ops/s, higher is better)"
    )
    print(f"{'operation':<24}{'imgtui client':>15}{'cloudflare SDK':>16}{'ratio':>8}")
    for name in ours:
        print(f"{name:<24}{ours[name]:>15.0f}{sdk[name]:>16.0f}{ours[name] / sdk[name]:>7.2f}x")
    print()
    print(f"{'import time (median of 5)':<24}{'ms':>15}")
    for module in ("imgtui.backends.cloudflare", "cloudflare"):
        print(f"  import {module:<30}{_import_ms(module):>8.0f}")


if __name__ == "__main__":
    main()
