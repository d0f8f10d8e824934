"""The grid's thumbnails on disk: one small file per (image version, size bucket), under a byte
budget, least recently used evicted first.

Blocking throughout: called from the thumbnail worker threads only, never the event loop.
Thread-safe (one lock around the index). Writes are atomic (a temp file in the same folder,
then `os.replace`), so a crash or a second imgtui process never leaves half a file under a
real name; a file that does not decode anyway (disk trouble, a foreign file) is deleted and
the thumbnail made again. Several processes may share the folder: the index is each one's
own view, and every file operation tolerates a file another process removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

# Evicting down to this share of the budget means a full cache does not evict on every put.
EVICT_TO = 0.9
JPEG_QUALITY = 85  # thumbnails are looked at small: 85 is indistinguishable and ~10 KB
SUFFIX = ".thumb"
REFUSED_SUFFIX = ".refused"  # a verdict that cost seconds (an SVG past its render deadline)
MAX_REFUSAL_CHARS = 32
# A cache file larger than this is not a thumbnail of ours: ignored (and deleted).
MAX_FILE_BYTES = 4 * 2**20


def cache_key(*parts: object) -> str:
    """A file-system-safe key for the parts (backend, id, uploaded time, size, bucket)."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def encode(image: Image.Image) -> bytes:
    """JPEG for opaque thumbnails (small, fast to decode), PNG when there is transparency."""
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, "PNG", compress_level=3)  # level 3: close to 9's size at a third of the time
    else:
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


@dataclass(slots=True)
class _Entry:
    size: int
    used: float  # last read or write (time.time())


def _write_atomically(path: Path, data: bytes) -> bool:
    """`data` under `path` via a temp file in the same folder and `os.replace`: a crash or a
    second process never sees half a file. False when it could not be written (disk full,
    read-only): for a cache that only means the work is done again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(error, OSError):
            return False
        raise
    return True


class DiskThumbnailCache:
    def __init__(self, root: Path, budget_bytes: int, *, max_side_px: int = 1024) -> None:
        self.root = root
        self.budget_bytes = budget_bytes
        self.max_side_px = max_side_px  # the largest thumbnail the caller stores
        self._lock = threading.Lock()
        self._index: dict[str, _Entry] | None = None  # filled on first use, in a worker
        self.used_bytes = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}{SUFFIX}"

    def _load_index(self) -> dict[str, _Entry]:
        if self._index is not None:
            return self._index
        index: dict[str, _Entry] = {}
        total = 0
        with contextlib.suppress(OSError):
            for shard in os.scandir(self.root):
                if not shard.is_dir(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError):
                    for entry in os.scandir(shard.path):
                        if not entry.name.endswith(SUFFIX) or not entry.is_file(follow_symlinks=False):
                            continue
                        stat = entry.stat(follow_symlinks=False)
                        index[entry.name[: -len(SUFFIX)]] = _Entry(stat.st_size, stat.st_mtime)
                        total += stat.st_size
        self._index, self.used_bytes = index, total
        return index

    def load(self, key: str) -> Image.Image | None:
        """The cached thumbnail, decoded, or None (missing, unreadable or corrupt: then gone)."""
        path = self._path(key)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError:
            self._forget(key)
            return None
        try:
            if len(data) > MAX_FILE_BYTES:
                raise ValueError("not a thumbnail")
            with Image.open(io.BytesIO(data)) as opened:
                # Ours are JPEG or PNG and at most the largest bucket: anything else (a planted
                # pixel bomb included) is not decoded.
                if opened.format not in ("JPEG", "PNG") or max(opened.size) > self.max_side_px:
                    raise ValueError("not a thumbnail")
                opened.load()
                image = opened.convert("RGBA" if opened.mode == "RGBA" else "RGB")
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            self.discard(key)
            return None
        now = time.time()
        with contextlib.suppress(OSError):
            os.utime(path, (now, now))  # the LRU order survives a restart
        with self._lock:
            # A read never scans the folder (60k files in a full cache): the index is built by
            # the first write, which needs the total; the file's mtime above keeps the order.
            entry = self._index.get(key) if self._index is not None else None
            if entry is not None:
                entry.used = now
        return image

    def refusal(self, key: str) -> str | None:
        """The problem word(s) kept for an image that took too long to refuse, or None."""
        try:
            with (self.root / key[:2] / f"{key}{REFUSED_SUFFIX}").open("rb") as handle:
                raw = handle.read(MAX_REFUSAL_CHARS + 1)
        except OSError:
            return None
        text = raw.decode("ascii", "replace")
        # Ours are short lower-case words: anything else (a foreign file) is not believed.
        if len(raw) > MAX_REFUSAL_CHARS or not all(ch.isalnum() or ch == " " for ch in text):
            return None
        return text or None

    def refuse(self, key: str, problem: str) -> None:
        """Keep `problem` for this image version, so the next session does not pay it again.
        Written atomically; a failure to write only means the cost is paid again."""
        data = problem.encode("ascii", "replace")[:MAX_REFUSAL_CHARS]
        _write_atomically(self.root / key[:2] / f"{key}{REFUSED_SUFFIX}", data)

    def store(self, key: str, image: Image.Image) -> None:
        """Write the thumbnail atomically, then evict the least recently used past the budget.
        A failure to write (disk full, read-only) only means no cache: never raised."""
        data = encode(image)
        if len(data) > min(self.budget_bytes, MAX_FILE_BYTES):
            return
        if not _write_atomically(self._path(key), data):
            return
        with self._lock:
            index = self._load_index()
            old = index.pop(key, None)
            if old is not None:
                self.used_bytes -= old.size
            index[key] = _Entry(len(data), time.time())
            self.used_bytes += len(data)
            if self.used_bytes > self.budget_bytes:
                self._evict_locked(index)

    def _evict_locked(self, index: dict[str, _Entry]) -> None:
        target = int(self.budget_bytes * EVICT_TO)
        for key in sorted(index, key=lambda name: index[name].used):
            if self.used_bytes <= target:
                break
            entry = index.pop(key)
            self.used_bytes -= entry.size
            with contextlib.suppress(OSError):
                os.unlink(self._path(key))

    def discard(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._path(key))
        self._forget(key)

    def _forget(self, key: str) -> None:
        with self._lock:
            if self._index is None:
                return  # not scanned yet: the scan will not see the file
            entry = self._index.pop(key, None)
            if entry is not None:
                self.used_bytes -= entry.size

    def disk_bytes(self) -> int:
        """Bytes the cache's files hold, as this process knows them."""
        with self._lock:
            self._load_index()
            return self.used_bytes
