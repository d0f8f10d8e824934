"""SVG snapshots of the forms (`pytest --snapshot-update` rewrites them).

Content is pinned: fixed ids, timestamps and file names; the backend here answers without a
clock, and cursors do not blink.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.ui.modals import (
    ConfirmDeleteModal,
    DownloadModal,
    EditMetadataModal,
    SignedUrlCopyModal,
    SignedUrlsModal,
    UploadModal,
)

try:
    from .test_modal_kit import ModalHost, png_bytes
except ImportError:
    from test_modal_kit import ModalHost, png_bytes  # type: ignore[no-redef]

UPLOADED = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
BASE = "https://imagedelivery.net/snapHASH"


def meta(image_id: str, filename: str, **fields) -> ImageMetadata:
    return ImageMetadata(
        id=image_id,
        filename=filename,
        uploaded=UPLOADED,
        variants=[f"{BASE}/{image_id}/public", f"{BASE}/{image_id}/thumbnail"],
        **fields,
    )


SNEAKER = meta(
    "2cdc28f0-017a-49c4-9ed7-87056c83901f",
    "red-sneaker.png",
    meta={"alt": "A red sneaker", "tags": ["shoes", "red"], "sku": 1042},
    creator="alice",
)
LOGO = meta("brand/imgtui-logo.svg", "imgtui-logo.svg")


class PinnedBackend:
    """Answers uploads with fixed records (ids from the file name); `broken.png` fails."""

    label = "snapshot"

    async def upload(self, request):
        if request.filename == "broken.png":
            raise ImagesError(ErrorCode.UNSUPPORTED_IMAGE, "Uploaded image must be PNG, JPEG, GIF, WebP, SVG")
        return meta(f"id-{request.filename}", request.filename)

    async def aclose(self) -> None:
        pass


def pinned_images() -> Images:
    return Images(PinnedBackend())  # type: ignore[arg-type]


async def steady(pilot) -> None:
    """No blinking cursors; workers done."""
    await pilot.pause()
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_edit_metadata(snap_compare):
    app = ModalHost(lambda: EditMetadataModal(pinned_images(), SNEAKER))
    assert snap_compare(app, terminal_size=(100, 32), run_before=steady)


def test_edit_metadata_invalid(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.screen.query_one("#metadata", TextArea).text = '{"alt": "A red sneaker",\n "tags": [shoes]}'
        await steady(pilot)

    app = ModalHost(lambda: EditMetadataModal(pinned_images(), SNEAKER))
    assert snap_compare(app, terminal_size=(100, 32), run_before=run_before)


def test_signed_urls_custom_id_refused(snap_compare):
    app = ModalHost(lambda: SignedUrlsModal(pinned_images(), LOGO))
    assert snap_compare(app, terminal_size=(90, 24), run_before=steady)


def test_signed_urls_make_private(snap_compare):
    app = ModalHost(lambda: SignedUrlsModal(pinned_images(), SNEAKER))
    assert snap_compare(app, terminal_size=(90, 24), run_before=steady)


def test_signed_url_copy(snap_compare):
    app = ModalHost(lambda: SignedUrlCopyModal(pinned_images(), SNEAKER))
    assert snap_compare(app, terminal_size=(90, 26), run_before=steady)


@pytest.fixture
def dropped(tmp_path: Path) -> list[Path]:
    files = []
    for name in ("red sneaker.png", "blue-boot.png", "broken.png"):
        path = tmp_path / name
        path.write_bytes(png_bytes() if name != "broken.png" else b"\x89PNG\r\n\x1a\n" + b"\0" * 900)
        files.append(path)
    return files


def test_upload_dropped_files(snap_compare, dropped):
    app = ModalHost(lambda: UploadModal(pinned_images(), dropped))
    assert snap_compare(app, terminal_size=(110, 34), run_before=steady)


def test_upload_with_a_failure(snap_compare, dropped):
    async def run_before(pilot) -> None:
        await steady(pilot)
        await pilot.press("enter")
        await steady(pilot)

    app = ModalHost(lambda: UploadModal(pinned_images(), dropped))
    assert snap_compare(app, terminal_size=(110, 34), run_before=run_before)


def test_upload_options_open(snap_compare, dropped):
    async def run_before(pilot) -> None:
        await steady(pilot)
        screen = pilot.app.screen
        await pilot.click("#options CollapsibleTitle")
        screen.query_one("#custom-id", Input).value = "shoes/red"
        screen.query_one("#signed").value = True
        await steady(pilot)

    app = ModalHost(lambda: UploadModal(pinned_images(), dropped[:1]))
    assert snap_compare(app, terminal_size=(110, 44), run_before=run_before)


def test_confirm_delete_several(snap_compare):
    targets = [SNEAKER, LOGO, *(meta(f"img-{n:04d}", f"file-{n:04d}.png") for n in range(6))]
    app = ModalHost(lambda: ConfirmDeleteModal(pinned_images(), targets))
    assert snap_compare(app, terminal_size=(90, 26), run_before=steady)


def test_download_one(snap_compare):
    app = ModalHost(lambda: DownloadModal(pinned_images(), [SNEAKER], directory=Path("/home/me/Downloads")))
    assert snap_compare(app, terminal_size=(100, 22), run_before=steady)
