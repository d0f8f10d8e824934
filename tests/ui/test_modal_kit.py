"""Shared by the modal tests: a real local library, a backend wrapper that records calls and
injects ImagesError, and a tiny host App that opens one modal and keeps its result.

(Named test_modal_* so it sits with the tests it serves; it holds no tests itself.)
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from textual import events
from textual.app import App, ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from imgtui.service import Images, ImagesError
from imgtui.ui.modals import UploadModal
from imgtui.workflows.dropparse import parse_drop

MODALS_TCSS = Path(__file__).resolve().parents[2] / "tcss" / "modals.tcss"
NO_RESULT = object()  # "not dismissed yet", distinct from dismiss(None)


def png_bytes(color: tuple[int, int, int] = (200, 30, 90), size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


class RecordingBackend:
    """Wraps a real backend: records every call by name; raises `fail[name]` when set.

    `fail` maps a method name to an ImagesError, or to a callable(args) -> ImagesError | None
    (to fail only some calls, e.g. one image id out of three).
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[tuple[str, tuple]] = []
        self.fail: dict[str, ImagesError | Callable[[tuple], ImagesError | None]] = {}

    @property
    def label(self) -> str:
        return self._inner.label

    @property
    def cache_key(self) -> str:
        return self._inner.cache_key

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args))
            failure = self.fail.get(name)
            if callable(failure) and not isinstance(failure, ImagesError):
                failure = failure(args)
            if failure is not None:
                raise failure
            return await target(*args, **kwargs)

        return call


@pytest.fixture
async def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real local library in a tmp dir, behind a RecordingBackend (`library.backend`).

    Also turns off Button's 0.2 s "pressed" effect, during which a second press is ignored:
    tests press faster than people do.
    """
    monkeypatch.setattr(Button, "_start_active_affect", lambda self: None)
    real = Images.local(tmp_path / "library")
    recorder = RecordingBackend(real.backend)
    images = Images(recorder)  # type: ignore[arg-type]
    yield images
    await real.aclose()


def recorder(images: Images) -> RecordingBackend:
    return images.backend  # type: ignore[return-value]


class ModalHost(App):
    """Opens the modal `make()` builds on mount and keeps what it dismissed with.

    `on_paste` is written the way the main screen should: parse the drop in a thread, then
    open the upload form with the files, or say what was wrong.
    """

    CSS_PATH = [MODALS_TCSS]

    def __init__(self, make: Callable[[], ModalScreen] | None = None, images: Images | None = None) -> None:
        super().__init__()
        self.make = make
        self.images = images
        self.result: Any = NO_RESULT
        self.problems: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("host screen", id="host")

    def on_mount(self) -> None:
        if self.make is not None:
            self.push_screen(self.make(), callback=self._keep)

    def _keep(self, result: Any) -> None:
        self.result = result

    async def on_paste(self, event: events.Paste) -> None:
        import asyncio

        result = await asyncio.to_thread(parse_drop, event.text)
        if result.files or result.urls:
            assert self.images is not None
            modal = UploadModal(self.images, result.files, urls=result.urls, problems=result.problems)
            self.push_screen(modal, callback=self._keep)
        else:
            self.problems = result.problems
            self.notify("\n".join(result.problems), title="Nothing to upload", severity="warning")


async def settle(pilot, app: App) -> None:
    """Let workers finish and the screen catch up."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
