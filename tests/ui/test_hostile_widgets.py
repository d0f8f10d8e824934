"""Issue 9, finding 1: every widget and form fed hostile strings shows escapes, never the raw
characters, and never reads them as markup (a `[/]` would raise MarkupError, `[bold]x` would
turn bold and lose its brackets).

The forms are opened over the browser of a hostile REST server (tests/ui/hostile.py), on
records whose every field is hostile; the upload form and its file tree on files whose names
on disk are; the details panel also on a local library whose metadata values are (any text
is a valid metadata value, whatever the service refuses in names).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.screen import Screen

from imgtui.service import ImageMetadata, Images
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.config import UiConfig
from imgtui.ui.modals import (
    ConfirmDeleteModal,
    DownloadModal,
    EditMetadataModal,
    SignedUrlCopyModal,
    SignedUrlsModal,
    UploadModal,
)
from imgtui.ui.modals.common import ConfirmDiscardModal
from imgtui.ui.screens.choices import Choice, ChoiceScreen, CreatorScreen
from imgtui.ui.widgets.details import DetailsPanel
from imgtui.ui.widgets.image_table import ImageTable
from tests.ui.hostile import (
    ACCOUNT_ID,
    BIDI,
    C1_CSI,
    CLOSE,
    MARKUP,
    SHOWN,
    TITLE,
    WIPE,
    forbidden_controls,
    hostile_server,
    screen_text,
    terminal_output,
)

SIZE = (150, 45)
FAST = {"backoff_base": 0.001, "backoff_cap": 0.01, "max_retry_after": 0.01, "max_retries": 0}
WHEN = datetime(2025, 3, 1, 10, tzinfo=UTC)

CONTROL_IMAGE = ImageMetadata(
    id=f"id{TITLE}",
    filename=f"{WIPE}{BIDI}",
    creator=f"{C1_CSI}{TITLE}",
    uploaded=WHEN,
    meta={f"k{TITLE}": f"v{WIPE}{C1_CSI}"},
    variants=[f"https://imagedelivery.net/h/id/{TITLE}", "https://imagedelivery.net/h/id/public"],
)
MARKUP_IMAGE = ImageMetadata(
    id=f"{CLOSE}id",
    filename=f"{MARKUP}{CLOSE}.png",
    creator=CLOSE,
    uploaded=WHEN,
    meta={CLOSE: MARKUP},
    variants=[f"https://imagedelivery.net/h/id/{CLOSE}"],
)


def assert_safe(app: ImgTuiApp) -> str:
    raw = terminal_output(app)
    assert forbidden_controls(raw) == []
    return screen_text(app)


FORMS: dict[str, Callable[[Images, list[ImageMetadata], Path], Screen]] = {
    "delete": lambda images, targets, _: ConfirmDeleteModal(images, targets),
    "download one": lambda images, targets, folder: DownloadModal(images, targets[:1], directory=folder),
    "download several": lambda images, targets, folder: DownloadModal(images, targets, directory=folder),
    "signed urls": lambda images, targets, _: SignedUrlsModal(images, targets[0]),
    "copy signed url": lambda images, targets, _: SignedUrlCopyModal(images, targets[0]),
    "metadata": lambda images, targets, _: EditMetadataModal(images, targets[0]),
    "row menu": lambda images, targets, _: ChoiceScreen(
        targets[0].id, [Choice(target.filename or "", target.id) for target in targets]
    ),
    "keyed menu": lambda images, targets, _: ChoiceScreen(
        targets[0].id, [Choice(target.filename or "", "v", key="x") for target in targets]
    ),
    "creator picker": lambda images, targets, _: CreatorScreen(
        targets[0].creator, [target.creator or "" for target in targets]
    ),
    "discard": lambda images, targets, _: ConfirmDiscardModal(f"Discard {targets[0].filename}?"),
}


NAMES_NO_RECORD = {"download several"}


@pytest.fixture
def server():
    with hostile_server(count=3) as running:
        yield running


@pytest.fixture
def images(server):
    return Images.cloudflare(ACCOUNT_ID, "token", base_url=server.api_url, **FAST)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("record", [CONTROL_IMAGE, MARKUP_IMAGE], ids=["controls", "markup"])
async def test_every_form_shows_hostile_records_literally(
    form: str, record: ImageMetadata, library_path, tmp_path, wait_until
):
    # Over an empty local library: whatever the screen shows wrong comes from the form.
    local = Images.local(library_path)
    app = ImgTuiApp(local, config=UiConfig())
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#images", ImageTable)
        await wait_until(pilot, lambda: table.load_state == "complete")
        await app.push_screen(FORMS[form](local, [record, CONTROL_IMAGE], tmp_path))
        await pilot.pause(0.2)
        text = assert_safe(app)
        if form in NAMES_NO_RECORD:
            pass  # it shows only counts and a folder until something fails
        elif record is CONTROL_IMAGE:
            assert SHOWN[TITLE] in text or SHOWN[WIPE] in text or "\\x9b" in text or "\\u009b" in text
        else:
            assert CLOSE in text  # the brackets show as typed: never parsed
        assert app.is_running


async def test_upload_form_and_file_tree_show_hostile_file_names(images, server, tmp_path, wait_until, png):
    folder = tmp_path / "pictures"
    folder.mkdir()
    names = [f"{TITLE}.png", f"{WIPE}.png", f"{BIDI}.png", f"{MARKUP}.png"]  # no "/" on disk
    paths = []
    for name in names:
        path = folder / name
        path.write_bytes(png)
        paths.append(path)
    app = ImgTuiApp(images, config=UiConfig())
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#images", ImageTable)
        await wait_until(pilot, lambda: table.loaded_count == len(server.records))
        await app.push_screen(UploadModal(images, paths[:1], cwd=folder))  # one file: its name as placeholder
        await pilot.pause(0.2)
        text = assert_safe(app)
        assert SHOWN[TITLE] in text
        app.pop_screen()
        form = UploadModal(images, paths, cwd=folder)
        await app.push_screen(form)
        await pilot.pause(0.2)
        text = assert_safe(app)
        assert SHOWN[WIPE] in text and SHOWN[BIDI] in text and f"{MARKUP}.png" in text
        await pilot.press("ctrl+o")  # the file tree, in that folder
        await wait_until(pilot, lambda: SHOWN[TITLE] in screen_text(app) and "pictures" in screen_text(app))
        await pilot.pause(0.3)
        text = assert_safe(app)
        assert f"{MARKUP}.png" in text
        assert app.is_running


async def test_local_library_metadata_values_and_markup_names(library_path, png, wait_until):
    """Metadata values may hold any text; names may hold markup characters (not controls)."""
    local = Images.local(library_path)
    await local.hosted.upload(
        png,
        id="plain-id",
        filename=f"{MARKUP}{CLOSE}.png",
        creator=CLOSE,
        metadata={"title": TITLE, "wipe": WIPE, "bidi": BIDI, "c1": C1_CSI, CLOSE: MARKUP},
    )
    app = ImgTuiApp(local, config=UiConfig())
    async with app.run_test(size=SIZE) as pilot:
        details = app.screen.query_one("#details", DetailsPanel)
        await wait_until(pilot, lambda: details.shown is not None)
        await pilot.pause(0.2)
        text = assert_safe(app)
        assert f"{MARKUP}{CLOSE}.png" in text  # literally, in the list and the details
        assert SHOWN[BIDI] in text and "\\x9b31m" in text  # json.dumps writes ESC as \u001b itself
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditMetadataModal))
        await pilot.pause(0.2)
        text = assert_safe(app)
        assert "\\u202e" in text and "\\u009b" in text


async def test_notifications_are_escaped_and_never_markup(images, server, wait_until):
    app = ImgTuiApp(images, config=UiConfig())
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#images", ImageTable)
        await wait_until(pilot, lambda: table.loaded_count == len(server.records))
        app.screen.notify(f"{TITLE} {CLOSE} {MARKUP}", title=WIPE, markup=False)
        await pilot.pause(0.2)
        note = list(app._notifications)[-1]
        assert note.message == f"{SHOWN[TITLE]} {CLOSE} {MARKUP}"
        assert note.title == SHOWN[WIPE]
        assert_safe(app)


def test_every_imgtui_notification_passes_markup_false():
    """A toast quotes server errors and file names: imgtui never lets Textual parse it."""
    root = Path(__file__).resolve().parents[2] / "imgtui" / "ui"
    missing = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr != "notify" or isinstance(node.func.value, ast.Call):  # super().notify
                    continue
                markup = [k for k in node.keywords if k.arg == "markup"]
                if not markup or not (
                    isinstance(markup[0].value, ast.Constant) and markup[0].value.value is False
                ):
                    missing.append(f"{path.relative_to(root)}:{node.lineno}")
    assert missing == []


async def test_creator_picker_keeps_a_hostile_current_creator(library_path, wait_until):
    """The field shows the creator escaped; Enter on it unchanged keeps the real creator."""
    local = Images.local(library_path)
    app = ImgTuiApp(local, config=UiConfig())
    chosen: list[str | None] = []
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(CreatorScreen(TITLE, [TITLE]), chosen.append)
        await pilot.pause(0.1)
        assert_safe(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: chosen != [])
    assert chosen == [TITLE]


async def test_header_label_of_a_library_path_with_controls(tmp_path, wait_until):
    local = Images.local(tmp_path / f"lib{TITLE}{CLOSE}")
    app = ImgTuiApp(local, config=UiConfig())
    # Wide enough for the quota and a pytest-xdist temp path before the label is cut.
    async with app.run_test(size=(220, SIZE[1])) as pilot:
        table = app.screen.query_one("#images", ImageTable)
        await wait_until(pilot, lambda: table.load_state == "complete")
        await pilot.pause(0.1)
        text = assert_safe(app)
        assert f"lib{SHOWN[TITLE]}{CLOSE}" in text
