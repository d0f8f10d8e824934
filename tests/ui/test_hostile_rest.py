"""Issue 9, finding 1 through the REST client: the TUI browsing a server that lies in every
string field shows escapes, never raw controls, never markup, and keeps running.

The server (tests/ui/hostile.py) speaks Cloudflare's v2 list and v1 details JSON on 127.0.0.1;
ids, filenames, creators, metadata keys and values, variant URLs and errors[].message all hold
`ESC]2;…BEL`, `ESC[2J ESC[?1049l`, U+202E, C1 CSI or `[bold]` / `[/]`.
"""

from __future__ import annotations

import pytest

from imgtui.service import Images
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.config import UiConfig
from imgtui.ui.widgets.details import DetailsPanel
from imgtui.ui.widgets.image_table import ImageTable
from tests.ui.hostile import (
    ACCOUNT_ID,
    BIDI,
    SHOWN,
    TITLE,
    WIPE,
    forbidden_controls,
    hostile_server,
    screen_text,
    terminal_output,
)

SIZE = (150, 40)
FAST = {"backoff_base": 0.001, "backoff_cap": 0.01, "max_retry_after": 0.01, "max_retries": 0}


def assert_screen_safe(app: ImgTuiApp) -> str:
    """Nothing but Textual's own sequences would reach the terminal; returns the screen text."""
    raw = terminal_output(app)
    assert forbidden_controls(raw) == []  # a raw ESC ] or ESC [?1049l would be listed here
    return screen_text(app)


@pytest.fixture
def server():
    with hostile_server() as running:
        yield running


@pytest.fixture
def images(server):
    return Images.cloudflare(ACCOUNT_ID, "token", base_url=server.api_url, **FAST)


async def test_browse_details_and_errors_of_a_hostile_server(server, images, wait_until):
    app = ImgTuiApp(images, config=UiConfig())
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#images", ImageTable)
        details = app.screen.query_one("#details", DetailsPanel)
        await wait_until(pilot, lambda: table.loaded_count == len(server.records))
        text = assert_screen_safe(app)
        for raw in (TITLE, WIPE, BIDI):
            assert SHOWN[raw] in text  # the list shows the escapes (id, filename, creator)
            assert raw not in text

        # Walk every row: details (fields, metadata JSON, variants) for each, and the error
        # answer (a hostile errors[].message) for the `err…` one.
        seen_error = False
        for row in range(table.row_count):
            table.move_cursor(row)
            image = table.current_image
            assert image is not None
            await wait_until(
                pilot,
                lambda image=image: (
                    (details.shown is not None and details.shown.id == image.id)
                    or "ERROR" in screen_text(app)
                ),
            )
            await pilot.pause()
            text = assert_screen_safe(app)
            if "ERROR 5400" in text:
                seen_error = True
                assert "denied \\x1b]2;PWNED\\x07 [/] \\x1b[2J" in text
        assert seen_error
        assert any(path.endswith("/images/v2") for path in server.paths)

        # A failed refresh (hostile message): the toast says it escaped, the rows stay.
        server.fail_list = True
        await pilot.press("r")
        await wait_until(pilot, lambda: any("denied" in note.message for note in app._notifications))
        note = next(note for note in app._notifications if "denied" in note.message)
        assert TITLE not in note.message and SHOWN[TITLE] in note.message
        await pilot.pause(0.2)
        assert_screen_safe(app)
        assert table.loaded_count == len(server.records)
        assert app.is_running  # no crash, no exit, the screen is still ours


async def test_row_menu_copy_choices_and_metadata_editor(server, images, wait_until):
    app = ImgTuiApp(images, config=UiConfig())
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#images", ImageTable)
        await wait_until(pilot, lambda: table.loaded_count == len(server.records))
        table.focus()
        await pilot.press("enter")  # the row menu, titled with the (hostile) id
        await pilot.pause(0.2)
        assert_screen_safe(app)
        await pilot.press("escape")
        await pilot.press("y")  # copy choices: id, filename, variant URLs
        await wait_until(pilot, lambda: len(app.screen_stack) > 1)
        await pilot.pause(0.2)
        text = assert_screen_safe(app)
        assert "\\x1b]2;PWNED" in text or "\\x1b[2J" in text
        await pilot.press("escape")
        await pilot.press("e")  # metadata editor: hostile keys, values and creator
        await wait_until(pilot, lambda: len(app.screen_stack) > 1)
        await pilot.pause(0.2)
        text = assert_screen_safe(app)
        assert "\\u009b31m" in text  # the C1 CSI as a JSON escape: it parses back the same
        await pilot.press("escape")
        assert app.is_running
