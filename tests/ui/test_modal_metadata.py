"""EditMetadataModal on a real local library."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Button, Input, Label, TextArea

from imgtui.service import ErrorCode, ImagesError
from imgtui.ui.modals import EditMetadataModal
from imgtui.ui.modals.common import ConfirmDiscardModal, ErrorLine

try:
    from .test_modal_kit import NO_RESULT, ModalHost, library, png_bytes, recorder, settle
except ImportError:
    from test_modal_kit import NO_RESULT, ModalHost, library, png_bytes, recorder, settle  # type: ignore[no-redef]

__all__ = ["library"]


async def uploaded(images, **kwargs):
    return await images.hosted.upload(png_bytes(), **kwargs)


def editor(app) -> TextArea:
    return app.screen.query_one("#metadata", TextArea)


async def test_prefilled_pretty_json_and_saves_replacing(library):
    image = await uploaded(library, metadata={"old": 1, "keep": "x"}, creator="ann")
    app = ModalHost(lambda: EditMetadataModal(library, image))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert json.loads(editor(app).text) == {"old": 1, "keep": "x"}
        assert "\n" in editor(app).text  # pretty-printed
        assert app.screen.query_one("#creator", Input).value == "ann"
        editor(app).text = '{"new": "välue"}'
        app.screen.query_one("#creator", Input).value = "bob"
        await pilot.pause()
        assert (
            str(app.screen.query_one("#metadata-size", Label).render()) == "16 / 1024 bytes"
        )  # compact, UTF-8: ä is 2 bytes
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    assert app.result.meta == {"new": "välue"}  # replaced, not merged
    assert app.result.creator == "bob"
    stored = await library.hosted.image(image.id).details()
    assert stored.meta == {"new": "välue"} and stored.creator == "bob"


async def test_no_metadata_prefills_empty_object_and_save_button_works(library):
    image = await uploaded(library)
    app = ModalHost(lambda: EditMetadataModal(library, image))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert editor(app).text == "{}"
        editor(app).text = '{"a": [1, 2]}'
        await pilot.click("#save")
        await settle(pilot, app)
    assert app.result.meta == {"a": [1, 2]}
    assert app.result.creator is None  # untouched creator is not sent


async def test_clearing_the_creator_sends_empty(library):
    image = await uploaded(library, creator="ann")
    app = ModalHost(lambda: EditMetadataModal(library, image))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one("#creator", Input).value = ""
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    assert app.result.creator in ("", None)
    assert recorder(library).calls[-1][1][1].creator == ""


INVALID = [
    ('{"a": ', "Invalid JSON"),
    ("[1, 2]", "must be a JSON object, not list"),
    ('"text"', "must be a JSON object, not str"),
    ("", "must be a JSON object"),
    ('{"a": NaN}', "NaN"),
    (json.dumps({"k": "x" * 1017}), "1025 bytes; at most 1024"),
]


async def test_each_invalid_input_disables_save_and_says_why(library):
    image = await uploaded(library)
    app = ModalHost(lambda: EditMetadataModal(library, image))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        for text, message in INVALID:
            editor(app).text = text
            await pilot.pause()
            assert message in str(app.screen.query_one("#metadata-error", Label).render()), text
            assert app.screen.query_one("#save", Button).disabled
            await pilot.press("ctrl+s")  # refused while invalid
        exactly = json.dumps({"k": "x" * 1016})
        editor(app).text = exactly
        await pilot.pause()
        assert str(app.screen.query_one("#metadata-size", Label).render()) == "1024 / 1024 bytes"
        assert not app.screen.query_one("#save", Button).disabled
    assert "update" not in recorder(library).names()
    assert app.result is NO_RESULT


async def test_service_error_is_shown_and_text_kept(library):
    image = await uploaded(library)
    recorder(library).fail["update"] = ImagesError(ErrorCode.NOT_FOUND, "Image not found")
    app = ModalHost(lambda: EditMetadataModal(library, image))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        editor(app).text = '{"typed": "by hand"}'
        app.screen.query_one("#creator", Input).value = "me"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, EditMetadataModal)  # still open
        error = app.screen.query_one("#form-error", ErrorLine)
        assert str(error.render()) == "ERROR 5404: Image not found"
        assert error.has_class("-shown")
        assert editor(app).text == '{"typed": "by hand"}'
        assert app.screen.query_one("#creator", Input).value == "me"
        assert not app.screen.query_one("#save", Button).disabled  # can retry
        recorder(library).fail.clear()
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    assert app.result.meta == {"typed": "by hand"}


async def test_escape_on_an_untouched_form_closes_at_once(library):
    image = await uploaded(library, metadata={"a": 1}, creator="ann")
    recorder(library).calls.clear()
    app = ModalHost(lambda: EditMetadataModal(library, image))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, (EditMetadataModal, ConfirmDiscardModal))
    assert app.result is None
    assert recorder(library).calls == []


@pytest.mark.parametrize("edit", ["metadata", "creator"])
async def test_escape_with_edits_asks_before_discarding_them(library, edit):
    image = await uploaded(library, metadata={"a": 1}, creator="ann")
    recorder(library).calls.clear()
    app = ModalHost(lambda: EditMetadataModal(library, image))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        form = app.screen
        if edit == "metadata":
            editor(app).text = '{"changed": true}'
        else:
            form.query_one("#creator", Input).value = "bob"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscardModal)
        assert str(app.screen.query_one("#discard-question").render()) == "Discard your changes?"
        await pilot.press("n")  # keep: back to the form, the text intact
        await pilot.pause()
        assert app.screen is form and app.result is NO_RESULT
        if edit == "metadata":
            assert editor(app).text == '{"changed": true}'
        await pilot.click("#cancel")  # the Cancel button asks too
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscardModal)
        await pilot.press("y")
        await pilot.pause()
        assert not isinstance(app.screen, (EditMetadataModal, ConfirmDiscardModal))
    assert app.result is None
    assert recorder(library).calls == []
    assert (await library.hosted.image(image.id).details()).meta == {"a": 1}


async def test_ctrl_a_selects_all_the_metadata(library):
    # Issue 14, trip 9: a select-all a newcomer finds (ctrl+a, shown in the form's border).
    image = await library.hosted.upload(png_bytes(), metadata={"b": 1, "a": 2})
    app = ModalHost(lambda: EditMetadataModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = app.screen.query_one("#metadata", TextArea)
        assert editor.text.index('"b"') < editor.text.index('"a"')  # stored order, as the details panel
        await pilot.press("ctrl+a")
        assert editor.selected_text == editor.text
        await pilot.press("delete", *"{}")
        assert editor.text == "{}"
