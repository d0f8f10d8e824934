"""One worker-error policy at the App: a failing worker on a screen or in a modal is reported
as a notification (`ERROR code: message`, or the exception's type and text) and the app stays up."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import Button

from imgtui.backends.local import LocalBackend
from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.modals import EditMetadataModal
from imgtui.ui.modals.common import ErrorLine, FormModal
from imgtui.ui.worker_errors import describe_failure

SIZE = (120, 36)


class BuggyList(LocalBackend):
    async def list(self, **kwargs):
        raise RuntimeError("a bug, not an I/O error")


class BuggyUpdate(LocalBackend):
    async def update(self, image_id, request):
        raise RuntimeError("update went wrong")


class RaisingForm(FormModal[None]):
    """A form whose worker lets a service error escape (no form catches it in place)."""

    def compose(self) -> ComposeResult:
        yield ErrorLine(id="form-error")
        yield Button("Go", id="go")

    def on_mount(self) -> None:
        self.busy = True
        self._fail()

    @work(exit_on_error=False, group="raising")
    async def _fail(self) -> None:
        raise ImagesError(ErrorCode.NOT_FOUND, "no such image")


def error_notifications(app: ImgTuiApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


def test_describe_failure_words() -> None:
    assert describe_failure(ImagesError(ErrorCode.BAD_REQUEST, "bad")) == "ERROR 5400: bad"
    assert describe_failure(KeyError("k")) == "Unexpected error (KeyError): 'k'"


async def test_main_screen_worker_bug_is_a_notification_and_an_error_row(library_path, fill, wait_until):
    images = Images.local(library_path)
    await fill(images, 3)
    await images.aclose()
    app = ImgTuiApp(Images(BuggyList(library_path)))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main_screen
        assert screen is not None
        await wait_until(pilot, lambda: bool(error_notifications(app)))
        assert error_notifications(app) == ["Unexpected error (RuntimeError): a bug, not an I/O error"]
        assert screen.table.load_state == "error"
        assert "RuntimeError" in screen.table.render_line(1).text
        await pilot.press("j", "r")
        await pilot.pause()
        assert app.is_running


async def test_modal_worker_bug_is_a_notification_and_the_form_stays_usable(library_path, fill, wait_until):
    images = Images.local(library_path)
    await fill(images, 2)
    await images.aclose()
    app = ImgTuiApp(Images(BuggyUpdate(library_path)))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main_screen
        assert screen is not None
        await wait_until(pilot, lambda: screen.table.loaded_count == 2)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditMetadataModal))
        modal = app.screen
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(error_notifications(app)))
        assert error_notifications(app) == ["Unexpected error (RuntimeError): update went wrong"]
        assert app.screen is modal and not modal.busy
        assert "RuntimeError" in str(modal.query_one("#form-error", ErrorLine).render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert app.is_running


async def test_service_error_escaping_a_modal_worker_reads_error_code_message(library_path, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main_screen is not None and app.main_screen.table.is_complete)
        form = RaisingForm()
        await app.push_screen(form)
        await wait_until(pilot, lambda: bool(error_notifications(app)))
        assert error_notifications(app) == ["ERROR 5404: no such image"]
        assert not form.busy and app.screen is form
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and app.screen is app.main_screen


def test_every_screen_and_modal_forwards_worker_errors_to_the_app() -> None:
    import importlib
    import inspect
    import pkgutil

    from textual.screen import Screen

    import imgtui.ui.modals
    import imgtui.ui.screens
    from imgtui.ui.worker_errors import ForwardsWorkerErrors

    screens: set[type] = set()
    for package in (imgtui.ui.screens, imgtui.ui.modals):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            screens.update(
                value
                for value in vars(module).values()
                if inspect.isclass(value)
                and issubclass(value, Screen)
                and value.__module__.startswith("imgtui.")
            )
    assert len(screens) >= 10
    assert [s.__name__ for s in screens if not issubclass(s, ForwardsWorkerErrors)] == []
