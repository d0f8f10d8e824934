"""Save images' original bytes to disk: streamed to a temp file, then renamed into place.

Nothing is overwritten unless asked: `plan_downloads` lists the conflicts before any write,
and the final rename refuses to clobber a file that appeared meanwhile (a hard link, which
fails if the name exists). Every blocking file call runs in a thread (`asyncio.to_thread`):
the event loop only awaits. No Textual here: the download form and the CLI share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from imgtui.common.text import has_unsafe_characters
from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError

_UNSAFE = {os.sep, "/", "\\", "\x00"}


class FileExists(Exception):
    """The target exists and the user did not allow overwriting."""


def safe_filename(image: ImageMetadata) -> str:
    """A file name for an image: its filename (or id) with path separators, controls (C0, DEL,
    C1) and bidi controls replaced: `evil\\u202egnp.exe` must not land on disk looking like
    `evilexe.png`."""
    name = _replace_unsafe(image.filename or image.id).strip()
    if name in ("", ".", ".."):
        name = _replace_unsafe(image.id) or "image"
    stem, dot, suffix = name.rpartition(".")
    return fit_name(stem, dot + suffix) if stem else fit_name(name, "")


# A file name is at most 255 *bytes* on Linux and macOS (NAME_MAX): 104 CJK characters are
# 312 bytes, a valid Cloudflare filename and an ENAMETOOLONG for every file of a batch.
NAME_MAX_BYTES = 255


def fit_name(stem: str, suffix: str) -> str:
    """`stem + suffix` cut (in the stem, on a character boundary) to NAME_MAX_BYTES of UTF-8,
    so the extension survives."""
    if len(suffix.encode("utf-8", "surrogatepass")) > 32:  # not an extension: cut it all alike
        stem, suffix = stem + suffix, ""
    room = NAME_MAX_BYTES - len(suffix.encode("utf-8", "surrogatepass"))
    encoded = stem.encode("utf-8", "surrogatepass")
    if len(encoded) > room:
        stem = encoded[:room].decode("utf-8", "ignore")  # drops a character cut in half
    return stem + suffix


def _replace_unsafe(raw: str) -> str:
    return "".join("_" if ch in _UNSAFE or has_unsafe_characters(ch) else ch for ch in raw)


def batch_filenames(targets: Sequence[ImageMetadata]) -> list[str]:
    """One distinct file name per image: `cat.png`, `cat-2.png`, … for repeated names."""
    names: list[str] = []
    seen: set[str] = set()
    for image in targets:
        name = safe_filename(image)
        stem, dot, suffix = name.rpartition(".")
        if not stem:
            stem, dot, suffix = name, "", ""
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = fit_name(stem, f"-{n}{dot}{suffix}")  # a long name is cut, never the number
        seen.add(candidate.lower())
        names.append(candidate)
    return names


def default_directory() -> Path:
    """~/Downloads when it exists, else the working directory (blocking: one stat)."""
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.cwd()


@dataclass(frozen=True, slots=True)
class DownloadPlan:
    """Where each image goes (in the targets' order), and which of those paths exist."""

    paths: list[Path]
    conflicts: list[Path]


def plan_downloads(targets: Sequence[ImageMetadata], chosen: Path, *, as_folder: bool) -> DownloadPlan:
    """Where `targets` go when the user chose `chosen` (blocking: run it in a thread).

    A folder (`as_folder`, or an existing directory) takes the images under their filenames
    and is created if missing (its parent must exist); otherwise `chosen` is the one image's
    file and its folder must exist. ValueError says what is wrong; OSError may escape mkdir.
    """
    single = len(targets) == 1
    if as_folder or chosen.is_dir():
        if chosen.exists() and not chosen.is_dir():
            raise ValueError(f"{chosen} is a file, not a folder")
        chosen.mkdir(exist_ok=True)
        names = [safe_filename(targets[0])] if single else batch_filenames(targets)
        paths = [chosen / name for name in names]
    else:
        if not chosen.parent.is_dir():
            raise ValueError(f"No such folder: {chosen.parent}")
        paths = [chosen]
    return DownloadPlan(paths, [path for path in paths if path.exists()])


@functools.cache
def new_file_mode() -> int:
    """The mode `open()` gives a new file (0o666 less the umask): mkstemp's 0o600 would leave
    a downloaded image readable by its owner only."""
    try:  # Linux shows the umask without changing it (os.umask would, for every thread)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _open_temp(folder: Path) -> tuple[BinaryIO, Path]:
    """A hidden temp file next to the target, with a new file's usual mode (blocking)."""
    fd, name = tempfile.mkstemp(prefix=".imgtui-", suffix=".part", dir=folder)
    # Not on Windows (no fchmod); FAT or SMB may refuse a mode: the bytes matter more.
    if hasattr(os, "fchmod"):
        with contextlib.suppress(OSError):
            os.fchmod(fd, new_file_mode())
    return os.fdopen(fd, "wb"), Path(name)


def _finalize(temp: Path, target: Path, overwrite: bool) -> None:
    """Move the finished temp file to `target` (blocking)."""
    if overwrite:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)  # atomic "create unless it exists"
    except FileExistsError:
        raise FileExists(str(target)) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        # No hard links on this filesystem (FAT, some mounts): check, then rename.
        if target.exists():
            raise FileExists(str(target)) from None
        os.replace(temp, target)
        return
    os.unlink(temp)


def _discard(fileobj: BinaryIO, temp: Path) -> None:
    """Close and delete a temp file that will not be finished (blocking)."""
    with contextlib.suppress(OSError):
        fileobj.close()
    with contextlib.suppress(OSError):
        os.unlink(temp)


async def save_image(images: Images, image_id: str, target: Path, *, overwrite: bool) -> Path:
    """Stream the original bytes of `image_id` into `target`; no partial file is ever left.

    Raises ImagesError (the service's), FileExists (a file appeared at `target` and
    `overwrite` is off) or OSError (the disk's).
    """
    stream = await images.hosted.image(image_id).bytes()
    if stream is None:
        raise ImagesError(ErrorCode.NOT_FOUND, f"Image {image_id} not found")
    try:
        fileobj, temp = await asyncio.to_thread(_open_temp, target.parent)
        try:
            async for chunk in stream:
                await asyncio.to_thread(fileobj.write, chunk)
            await asyncio.to_thread(fileobj.close)
            await asyncio.to_thread(_finalize, temp, target, overwrite)
        except BaseException:
            # Shielded: a cancelled download still removes its temp file (the thread runs
            # to the end even if this await is cancelled again).
            await asyncio.shield(asyncio.to_thread(_discard, fileobj, temp))
            raise
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    return target
