"""Save images' original bytes to disk: streamed to a temp file, then renamed into place.

Nothing is overwritten unless the user ticks "Overwrite": conflicts are listed before any
write, and the final rename refuses to clobber a file that appeared meanwhile (hard link,
which fails if the name exists).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import tempfile
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError

from .common import ErrorLine, FormModal, describe_error, image_caption

_UNSAFE = {os.sep, "/", "\\", "\x00"}


class FileExists(Exception):
    """The target exists and the user did not allow overwriting."""


def safe_filename(image: ImageMetadata) -> str:
    """A file name for an image: its filename (or id) with path separators and controls replaced."""
    raw = image.filename or image.id
    name = "".join("_" if ch in _UNSAFE or ord(ch) < 0x20 else ch for ch in raw).strip()
    if name in ("", ".", ".."):
        name = "".join("_" if ch in _UNSAFE or ord(ch) < 0x20 else ch for ch in image.id) or "image"
    return name[:255]


def batch_filenames(targets: list[ImageMetadata]) -> list[str]:
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
            candidate = f"{stem}-{n}{dot}{suffix}"
        seen.add(candidate.lower())
        names.append(candidate)
    return names


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


def _create_temp(folder: Path) -> tuple[int, str]:
    """A hidden temp file next to the target, with a new file's usual mode (blocking)."""
    fd, name = tempfile.mkstemp(prefix=".imgtui-", suffix=".part", dir=folder)
    # Not on Windows (no fchmod); FAT or SMB may refuse a mode: the bytes matter more.
    if hasattr(os, "fchmod"):
        with contextlib.suppress(OSError):
            os.fchmod(fd, new_file_mode())
    return fd, name


def default_directory() -> Path:
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.cwd()


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


async def save_image(images: Images, image_id: str, target: Path, *, overwrite: bool) -> Path:
    """Stream the original bytes of `image_id` into `target`; no partial file is ever left."""
    stream = await images.hosted.image(image_id).bytes()
    if stream is None:
        raise ImagesError(ErrorCode.NOT_FOUND, f"Image {image_id} not found")
    fd, temp_name = await asyncio.to_thread(_create_temp, target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as fileobj:
            async for chunk in stream:
                await asyncio.to_thread(fileobj.write, chunk)
            await asyncio.to_thread(fileobj.flush)
        await asyncio.to_thread(_finalize, temp, target, overwrite)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)  # not in a thread: this must run even when cancelled
        raise
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    return target


class DownloadModal(FormModal[list[Path]]):
    """Save one image to a file, or several into a folder; dismisses with the saved paths."""

    def __init__(
        self, images: Images, targets: list[ImageMetadata], *, directory: Path | None = None
    ) -> None:
        super().__init__()
        if not targets:
            raise ValueError("DownloadModal needs at least one image")
        self.images = images
        self.targets = list(targets)
        self.directory = directory
        self.saved: list[Path] = []
        self.failures: list[tuple[ImageMetadata, str]] = []
        self.attempted = False

    @property
    def single(self) -> bool:
        return len(self.targets) == 1

    def compose(self) -> ComposeResult:
        directory = self.directory or default_directory()
        with Vertical(id="dialog", classes="modal-dialog modal-wide") as dialog:
            if self.single:
                dialog.border_title = "Download image"
                yield Label(image_caption(self.targets[0]), classes="modal-intro")
                yield Label("Save as", classes="field-label")
                default = directory / safe_filename(self.targets[0])
            else:
                dialog.border_title = f"Download {len(self.targets)} images"
                yield Label(f"{len(self.targets)} images, saved under their filenames", classes="modal-intro")
                yield Label("Save into folder (created if missing)", classes="field-label")
                default = directory
            yield Input(str(default), id="target", classes="busy-off")
            yield Checkbox("Overwrite existing files", id="overwrite", classes="busy-off")
            yield ProgressBar(total=len(self.targets), show_eta=False, id="download-progress")
            yield Static("", id="download-summary", classes="modal-text")
            yield ErrorLine(id="form-error", classes="form-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Save", variant="primary", id="save", classes="busy-off")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#download-progress").display = False
        self.query_one("#download-summary").display = False
        target = self.query_one("#target", Input)
        target.focus()
        target.cursor_position = len(target.value)

    def action_cancel(self) -> None:
        if self.attempted and not self.busy and self.saved:
            self.dismiss(self.saved)
            return
        super().action_cancel()

    def _chosen(self) -> tuple[Path, bool]:
        """The typed path, and whether it surely names a folder (several images, or a
        trailing `/`); ValueError says what is wrong."""
        text = self.query_one("#target", Input).value.strip()
        if not text:
            raise ValueError("Type where to save")
        chosen = Path(os.path.expanduser(text))
        if not chosen.is_absolute():
            chosen = (self.directory or Path.cwd()) / chosen
        return chosen, not self.single or text.endswith(("/", os.sep))

    @on(Input.Submitted, "#target")
    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        if self.busy:
            return
        try:
            chosen, as_folder = self._chosen()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.clear_error()
        self.busy = True
        self._save(chosen, as_folder, self.query_one("#overwrite", Checkbox).value)

    def _prepare(self, chosen: Path, as_folder: bool) -> tuple[list[Path], list[Path]]:
        """Where each image goes, and which of those exist already. An existing folder (or a
        name ending in `/`) takes the images under their filenames, and is created if missing
        (its parent must exist); a file name needs an existing folder. Blocking."""
        if as_folder or chosen.is_dir():
            if chosen.exists() and not chosen.is_dir():
                raise ValueError(f"{chosen} is a file, not a folder")
            chosen.mkdir(exist_ok=True)
            names = [safe_filename(self.targets[0])] if self.single else batch_filenames(self.targets)
            plan = [chosen / name for name in names]
        else:
            if not chosen.parent.is_dir():
                raise ValueError(f"No such folder: {chosen.parent}")
            plan = [chosen]
        return plan, [path for path in plan if path.exists()]

    @work(exit_on_error=False, exclusive=True, group="download")
    async def _save(self, chosen: Path, as_folder: bool, overwrite: bool) -> None:
        try:
            plan, conflicts = await asyncio.to_thread(self._prepare, chosen, as_folder)
        except (OSError, ValueError) as exc:
            self.busy = False
            self.show_error(
                f"{exc}" if isinstance(exc, ValueError) else f"Cannot use that folder: {exc.strerror or exc}"
            )
            return
        conflicts = [path for path in conflicts if path not in self.saved]  # ours, from a first try
        if conflicts and not overwrite:
            self.busy = False
            names = ", ".join(path.name for path in conflicts[:5])
            more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
            self.show_error(
                f"Already exists: {names}{more}. Tick Overwrite to replace, or pick another name."
            )
            self.query_one("#overwrite", Checkbox).focus()
            return
        self.attempted = True
        progress = self.query_one("#download-progress", ProgressBar)
        progress.update(total=len(plan), progress=0)
        progress.display = not self.single
        self.failures = []
        done_before = set(self.saved)
        for image, target in zip(self.targets, plan, strict=True):
            if target in done_before:
                progress.advance(1)
                continue
            try:
                self.saved.append(await save_image(self.images, image.id, target, overwrite=overwrite))
            except FileExists:
                self.failures.append((image, f"{target.name} appeared meanwhile; not overwritten"))
            except ImagesError as exc:
                self.failures.append((image, describe_error(exc)))
            except OSError as exc:
                self.failures.append((image, f"Cannot write {target}: {exc.strerror or exc}"))
            progress.advance(1)
        self.busy = False
        if not self.failures:
            where = self.saved[0] if self.single else plan[0].parent
            self.notify(
                f"Saved {len(self.saved)} file{'s' if len(self.saved) != 1 else ''} to {where}", timeout=4
            )
            self.dismiss(self.saved)
            return
        lines = [f"Saved {len(self.saved)} of {len(self.targets)}."]
        lines += [f"✗ {image.id}: {reason}" for image, reason in self.failures]
        summary = self.query_one("#download-summary", Static)
        summary.update(Content("\n".join(lines)))
        summary.display = True
        self.show_error(f"{len(self.failures)} could not be saved")
        self.query_one("#cancel", Button).label = "Close"
