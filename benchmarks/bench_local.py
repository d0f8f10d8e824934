"""Local library benchmarks: list-page latency by library size, upload rate, the
blob-storage comparison behind storing bytes in SQLite, and the sniffer's cost per upload
(frames walked, no pixels decoded). Prints tables; not a test.

    .venv/bin/python benchmarks/bench_local.py [--quick]

The big libraries are filled through an internal bulk-insert path
(`LocalBackend.fill_unchecked`, one transaction per 10k rows, no checks) because uploading
100k images one by one would only measure uploads again. Everything else goes through the
public `Images` API, thread hops included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import random
import sqlite3
import statistics
import struct
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from imgtui.backends.local import LocalBackend, schema
from imgtui.backends.local.cursor import encode_cursor
from imgtui.service import Images, ImagesError
from imgtui.service.sniff import sniff_image


def small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


PNG = small_png()


def padded_png(size: int) -> bytes:
    return PNG + os.urandom(max(0, size - len(PNG)))  # bytes after IEND: still a valid PNG


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


# -- list-page latency -------------------------------------------------------------------


async def fill(backend: LocalBackend, count: int) -> None:
    """INTERNAL BULK PATH (benchmark fill only): `count` records with small blobs."""
    creators = ["ann", "bob", "cat", None]
    batch = 10_000
    for start in range(0, count, batch):
        rows = [
            (str(uuid.uuid4()), PNG, creators[n % len(creators)])
            for n in range(start, min(count, start + batch))
        ]
        await backend.fill_unchecked(rows)


async def list_latency(root: Path, count: int, pages: int) -> list[list[str]]:
    backend = LocalBackend(root)
    images = Images(backend)
    async with images:
        await fill(backend, count)
        keys = await backend._library_keys()
        rng = random.Random(count)
        rows = []
        for order, creator in (("asc", None), ("desc", None), ("asc", "ann")):
            timings = []
            for _ in range(pages):
                seq = rng.randint(1, max(1, count - 500))
                if order == "desc":
                    seq = count - seq + 1
                cursor = encode_cursor(keys.cursor_secret, seq, order, creator)
                started = time.perf_counter()
                page = await images.hosted.list(limit=100, cursor=cursor, sort_order=order, creator=creator)
                timings.append(time.perf_counter() - started)
                assert len(page.images) == 100, len(page.images)
            rows.append(
                [
                    f"{count:,}",
                    f"{order}{' creator=ann' if creator else ''}",
                    f"{statistics.median(timings) * 1000:.2f}",
                    f"{percentile(timings, 0.95) * 1000:.2f}",
                ]
            )
        return rows


# -- filtered list pages ------------------------------------------------------------------


def tag_metadata(root: Path) -> None:
    """Benchmark fill only: metadata on every record, by direct SQL: `tier` is "rare" on 1% of
    the images, `half` is "yes" on 50%, `rating` a number 0-9."""
    conn = sqlite3.connect(root / "library.sqlite3", timeout=30)
    with conn:
        conn.execute(
            "UPDATE images SET meta = json_object('tier', CASE WHEN seq % 100 = 0 THEN 'rare' ELSE 'common' END,"
            " 'half', CASE WHEN seq % 2 = 0 THEN 'yes' ELSE 'no' END, 'rating', seq % 10)"
        )
    conn.close()


FILTERS: list[tuple[str, dict[str, dict[str, object]]]] = [
    ("1% tier=rare", {"tier": {"eq": "rare"}}),
    ("50% half=yes", {"half": {"eq": "yes"}}),
    ("50% rating>=5", {"rating": {"gte": 5}}),
]


async def filtered_latency(root: Path, count: int, pages: int) -> list[list[str]]:
    backend = LocalBackend(root)
    images = Images(backend)
    async with images:
        await fill(backend, count)
    tag_metadata(root)
    rows = []
    async with Images(LocalBackend(root)) as images:
        for label, metadata_filter in FILTERS:
            timings: list[float] = []
            cursor = None
            for _ in range(pages):  # walk the listing page by page, as a client does
                started = time.perf_counter()
                page = await images.hosted.list(limit=50, cursor=cursor, metadata_filter=metadata_filter)
                timings.append(time.perf_counter() - started)
                cursor = page.cursor
                if cursor is None:
                    break
            rows.append(
                [
                    f"{count:,}",
                    label,
                    f"{statistics.median(timings) * 1000:.2f}",
                    f"{percentile(timings, 0.95) * 1000:.2f}",
                ]
            )
    return rows


async def bench_filter(base: Path, count: int, pages: int) -> None:
    rows = await filtered_latency(base / f"filter-{count}", count, pages)
    table(
        f"list(metadata_filter=...): 50-image pages walked from the top ({pages} pages or to the end)",
        ["images", "filter", "median ms", "p95 ms"],
        rows,
    )


# -- uploads through the public API ----------------------------------------------------


async def upload_rate(root: Path, count: int, uploaders: int) -> float:
    async with Images.local(root) as images:
        await images.hosted.list()  # open first: measure uploads, not the first open
        datas = [PNG + n.to_bytes(4, "big") for n in range(count)]

        async def worker(part: list[bytes]) -> None:
            for data in part:
                await images.hosted.upload(data)

        started = time.perf_counter()
        await asyncio.gather(*(worker(datas[i::uploaders]) for i in range(uploaders)))
        return count / (time.perf_counter() - started)


# -- sniffing: every frame walked, no pixel decoded ----------------------------------------


def animation(fmt: str, frames: int, size: tuple[int, int]) -> bytes:
    images = [Image.new("RGB", size, (5 * n % 256, 90, 160)) for n in range(frames)]
    out = io.BytesIO()
    images[0].save(out, fmt, save_all=True, append_images=images[1:], duration=40, loop=0)
    return out.getvalue()


def gif_bomb_header() -> bytes:
    """A 1x1 logical screen and one 12000x12000 frame (its LZW data elided: not read)."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + bytes(6)
    frame = b"," + struct.pack("<HHHHB", 0, 0, 12_000, 12_000, 0) + b"\x02" + b"\xff" + bytes(255) + b"\x00"
    return screen + frame + b";"


def sniff_costs(calls: int) -> list[list[str]]:
    samples = {
        "still PNG 16x16": PNG,
        "still JPEG 1000x1000": encoded(Image.new("RGB", (1000, 1000)), "JPEG"),
        "animated GIF 100x100, 100 frames": animation("GIF", 100, (100, 100)),
        "APNG 100x100, 100 frames": animation("PNG", 100, (100, 100)),
        "animated WebP 100x100, 100 frames": animation("WEBP", 100, (100, 100)),
        "GIF bomb header (refused)": gif_bomb_header(),
    }
    rows = []
    for name, data in samples.items():
        started = time.perf_counter()
        for _ in range(calls):
            with contextlib.suppress(ImagesError):
                sniff_image(data)
        per_call = (time.perf_counter() - started) / calls
        rows.append([name, f"{len(data):,}", f"{per_call * 1e6:.1f}"])
    return rows


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


# -- where to keep the bytes: SQLite blobs vs atomic files -------------------------------

RECORD = "INSERT INTO images (id, uploaded_ms, content_type, size) VALUES (?, 0, 'image/png', ?)"


def sqlite_blob_store(root: Path, synchronous: str) -> tuple[Callable[[bytes], str], Callable[[str], bytes]]:
    conn = schema.connect(root, writer=True)
    conn.execute(f"PRAGMA synchronous={synchronous}")

    def write(data: bytes) -> str:
        image_id = str(uuid.uuid4())
        with schema.write_transaction(conn):
            seq = conn.execute(RECORD, (image_id, len(data))).lastrowid
            conn.execute("INSERT INTO blobs (seq, data) VALUES (?, ?)", (seq, data))
        return image_id

    def read(image_id: str) -> bytes:
        return conn.execute(
            "SELECT b.data FROM images i JOIN blobs b ON b.seq = i.seq WHERE i.id = ?", (image_id,)
        ).fetchone()[0]

    return write, read


def file_blob_store(root: Path) -> tuple[Callable[[bytes], str], Callable[[str], bytes]]:
    """The alternative: bytes in files (temp + fsync + rename + directory fsync) written
    before the record commits."""
    conn = schema.connect(root, writer=True)
    blob_dir = root / "blobs"
    blob_dir.mkdir(exist_ok=True)
    dir_fd = os.open(blob_dir, os.O_RDONLY)

    def write(data: bytes) -> str:
        image_id = str(uuid.uuid4())
        final = blob_dir / image_id
        temp = blob_dir / f".{image_id}.tmp"
        with open(temp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, final)
        os.fsync(dir_fd)
        with schema.write_transaction(conn):
            conn.execute(RECORD, (image_id, len(data)))
        return image_id

    def read(image_id: str) -> bytes:
        conn.execute("SELECT size FROM images WHERE id = ?", (image_id,)).fetchone()
        return (blob_dir / image_id).read_bytes()

    return write, read


def storage_comparison(base: Path, sizes: list[int], count_for: Callable[[int], int]) -> list[list[str]]:
    rows = []
    variants = {
        "sqlite blobs, synchronous=FULL (chosen)": lambda root: sqlite_blob_store(root, "FULL"),
        "sqlite blobs, synchronous=NORMAL": lambda root: sqlite_blob_store(root, "NORMAL"),
        "files (fsync+rename) + FULL record": file_blob_store,
    }
    for size in sizes:
        data = padded_png(size)
        count = count_for(size)
        for label, make in variants.items():
            root = Path(tempfile.mkdtemp(dir=base))
            write, read = make(root)
            started = time.perf_counter()
            ids = [write(data) for _ in range(count)]
            write_rate = count / (time.perf_counter() - started)
            started = time.perf_counter()
            for image_id in ids:
                assert len(read(image_id)) == len(data)
            read_ms = (time.perf_counter() - started) / count * 1000
            rows.append([f"{size:,}", label, f"{write_rate:,.0f}", f"{read_ms:.3f}"])
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--only", choices=["list", "filter", "upload", "storage", "sniff"], help="run one part"
    )
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    pages = 100 if args.quick else 400
    with tempfile.TemporaryDirectory(prefix="imgtui-bench-") as tmp:
        base = Path(tmp)
        if args.only in (None, "list"):
            await bench_list(base, sizes, pages)
        if args.only in (None, "filter"):
            await bench_filter(base, sizes[-1], 20 if args.quick else 40)
        if args.only in (None, "upload"):
            await bench_upload(base, 300 if args.quick else 1000)
        if args.only in (None, "storage"):
            bench_storage(base)
        if args.only in (None, "sniff"):
            bench_sniff(1_000 if args.quick else 10_000)


async def bench_list(base: Path, sizes: list[int], pages: int) -> None:
    rows = []
    for count in sizes:
        rows += await list_latency(base / f"list-{count}", count, pages)
    table(
        f"list(): one 100-image page from a random cursor, public API ({pages} pages each)",
        ["images", "order/filter", "median ms", "p95 ms"],
        rows,
    )


async def bench_upload(base: Path, upload_count: int) -> None:
    rows = []
    for uploaders in (1, 4):
        rate = await upload_rate(base / f"upload-{uploaders}", upload_count, uploaders)
        rows.append([str(uploaders), str(upload_count), f"{rate:,.0f}"])
    table("upload(): small PNGs through the public API", ["uploaders", "uploads", "uploads/s"], rows)


def bench_storage(base: Path) -> None:
    blob_sizes = [1_000, 256 * 1024, 4 * 1024 * 1024]
    rows = storage_comparison(
        base,
        blob_sizes,
        lambda size: 300 if size < 100_000 else 40 if size < 2**20 else 10,
    )
    table(
        "Where the bytes live (storage layer only, one thread)",
        ["bytes", "store", "writes/s", "read ms"],
        rows,
    )


def bench_sniff(calls: int) -> None:
    table(
        f"sniff_image(): identify, walk frames, check limits ({calls:,} calls each)",
        ["input", "bytes", "us/call"],
        sniff_costs(calls),
    )


if __name__ == "__main__":
    asyncio.run(main())
