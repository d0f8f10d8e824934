"""The details panel while the cursor moves: the body dims (cheaply) until the debounced
load shows the highlighted image."""

from __future__ import annotations

from pathlib import Path

from imgtui.service import Images
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.widgets.details import DetailsPanel
from imgtui.ui.widgets.image_table import ImageTable


async def test_the_body_dims_until_the_highlighted_image_is_loaded(library_path: Path, fill, wait_until):
    images = Images.local(library_path)
    await fill(images, 3)
    await images.aclose()
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one("#images", ImageTable)
        details = app.screen.query_one("#details", DetailsPanel)
        await wait_until(pilot, lambda: bool(details.query("#details-body")))  # mounted after the first frame
        body = details.query_one("#details-body")
        await wait_until(pilot, lambda: details.shown is not None and details.shown.id == "img-0002")
        assert not details.stale and body.styles.text_opacity == 1.0
        table.action_cursor_down()
        await pilot.pause(0)  # the Highlighted message, not the debounced load
        assert details.border_title == "img-0001" and details.stale
        assert body.styles.text_opacity == 0.55  # the dim itself, as the stylesheet had it
        assert not details.has_class("-stale")  # on the body: the preview is not restyled
        await wait_until(pilot, lambda: details.shown is not None and details.shown.id == "img-0001")
        assert not details.stale and body.styles.text_opacity == 1.0
