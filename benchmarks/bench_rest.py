"""Round trips per second through `imgtui serve`: our REST client vs the official SDK.

    .venv/bin/python benchmarks/bench_rest.py [--rounds N]
    .venv/bin/python benchmarks/bench_rest.py --list-latency [--rounds N]   # our client only

Both clients talk to the same emulator (`imgtui serve` in its own process, real loopback TCP,
library in a temporary directory), in alternating runs. Also prints delivery rates and the
import time of each client.
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
import httpx
from PIL import Image
from serve_process import ServeProcess

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


async def _ours(api_url: str, rounds: int, run: str) -> dict[str, float]:
    async with Images.cloudflare(ACCOUNT, TOKEN, base_url=api_url) as images:
        handle = images.hosted.image("seed/0")

        async def upload(i: int) -> object:
            return await images.hosted.upload(_png(i), id=f"ours/{run}/{i}")

        return {
            "details": await _rate(rounds, lambda i: handle.details()),
            "details x8 concurrent": await _concurrent_rate(rounds, 8, lambda i: handle.details()),
            "list page (50)": await _rate(rounds, lambda i: images.hosted.list(limit=50)),
            "blob (read bytes)": await _rate(rounds, lambda i: handle.read()),
            "upload": await _rate(rounds, upload),
        }


async def _sdk(api_url: str, rounds: int, run: str) -> dict[str, float]:
    async with cloudflare.AsyncCloudflare(api_token=TOKEN, base_url=api_url) as client:
        v1 = client.images.v1

        async def upload(i: int) -> object:
            return await v1.create(
                account_id=ACCOUNT, file=(f"{i}.png", _png(i), "image/png"), id=f"sdk/{run}/{i}"
            )

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


def _photo() -> bytes:
    out = io.BytesIO()
    Image.effect_mandelbrot((2400, 1600), (-2.0, -1.0, 1.0, 1.0), 60).convert("RGB").save(
        out, "JPEG", quality=90
    )
    return out.getvalue()


async def _delivery(api_url: str, base_url: str, rounds: int) -> dict[str, float]:
    """Delivery of a 2400x1600 JPEG: the original, a named variant cold (first request for
    each image) and cached, and cold flexible resizes."""
    cold = max(10, rounds // 10)
    async with Images.cloudflare(ACCOUNT, TOKEN, base_url=api_url) as images:
        # A new library has `public` only and flexible variants off, as a new account.
        await images.account.variants.create(
            "thumb", {"fit": "scale-down", "width": 320, "height": 320, "metadata": "none"}
        )
        await images.account.settings.update(flexible_variants=True)
        data = _photo()
        photo = await images.hosted.upload(data, id="photo")
        for n in range(cold):
            await images.hosted.upload(data, id=f"cold{n}")
    prefix = photo.variants[0].rsplit("/", 1)[0]
    cold_prefix = prefix.rsplit("/", 1)[0]
    async with httpx.AsyncClient() as client:

        async def get(url: str) -> None:
            response = await client.get(url)
            response.raise_for_status()

        return {
            "public (original)": await _rate(rounds, lambda i: get(f"{prefix}/public")),
            # The warm-up round (i = -1) asks for `public`, so every cold image stays cold.
            "named variant cold": await _rate(
                cold, lambda i: get(f"{cold_prefix}/cold{i}/thumb" if i >= 0 else f"{prefix}/public")
            ),
            "named variant cached": await _rate(rounds, lambda i: get(f"{prefix}/thumb")),
            "w=N cold resize": await _rate(cold, lambda i: get(f"{prefix}/w={200 + i + 1}")),
        }


async def _list_latencies(api_url: str, rounds: int) -> list[float]:
    """Seconds per `list(limit=50)` call, one at a time, after one warm-up call."""
    async with Images.cloudflare(ACCOUNT, TOKEN, base_url=api_url) as images:
        await images.hosted.list(limit=50)
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            await images.hosted.list(limit=50)
            samples.append(time.perf_counter() - started)
        return samples


def _print_list_latency(api_url: str, rounds: int, repeats: int) -> None:
    samples = [sample for _ in range(repeats) for sample in asyncio.run(_list_latencies(api_url, rounds))]
    samples.sort()
    median, p90 = statistics.median(samples), samples[int(len(samples) * 0.9)]
    print(
        f"list page (50) through imgtui serve, {len(samples)} calls: "
        f"median {median * 1000:.2f} ms, p90 {p90 * 1000:.2f} ms, min {samples[0] * 1000:.2f} ms"
    )


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


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: max(run[name] for run in runs) for name in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300, help="operations per measurement (default 300)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="alternating runs per client; best kept (default 3)"
    )
    parser.add_argument(
        "--list-latency",
        action="store_true",
        help="only the latency of one list page through our client (median and p90)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = ServeProcess(pathlib.Path(tmp) / "lib", TOKEN)
        try:
            asyncio.run(_seed(server.api_url))
            if args.list_latency:
                _print_list_latency(server.api_url, args.rounds, args.repeats)
                return
            ours_runs, sdk_runs = [], []
            for repeat in range(args.repeats):  # alternate, so background load hits both alike
                ours_runs.append(asyncio.run(_ours(server.api_url, args.rounds, f"r{repeat}")))
                sdk_runs.append(asyncio.run(_sdk(server.api_url, args.rounds, f"r{repeat}")))
            delivery = asyncio.run(_delivery(server.api_url, server.base_url, args.rounds))
        finally:
            server.stop()
    ours, sdk = _best(ours_runs), _best(sdk_runs)

    print(
        f"imgtui serve (own process) on loopback, {SEEDED} images seeded, {args.rounds} operations each, "
        f"best of {args.repeats} (ops/s, higher is better)"
    )
    print(f"{'operation':<24}{'imgtui client':>15}{'cloudflare SDK':>16}{'ratio':>8}")
    for name in ours:
        print(f"{name:<24}{ours[name]:>15.0f}{sdk[name]:>16.0f}{ours[name] / sdk[name]:>7.2f}x")
    print()
    print(f"{'delivery (2400x1600 JPEG)':<32}{'requests/s':>12}")
    for name, rate in delivery.items():
        print(f"  {name:<30}{rate:>12.0f}")
    print()
    print(f"{'import time (median of 5)':<24}{'ms':>15}")
    for module in ("imgtui.backends.cloudflare", "cloudflare"):
        print(f"  import {module:<30}{_import_ms(module):>8.0f}")


if __name__ == "__main__":
    main()
