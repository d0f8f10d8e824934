"""One policy for a worker that fails: the App says what happened, nothing crashes.

Textual posts `Worker.StateChanged` to the node that ran the worker only (it does not
bubble), so every screen and modal mixes in `ForwardsWorkerErrors`, which hands a failure to
the App as a `WorkerFailed` message; `ImgTuiApp.on_worker_failed` turns it into a
notification. Workers run with `exit_on_error=False`, so an exception is never fatal.
A screen that must also mend its own state (a form stops being busy, the list shows an
error row) overrides `worker_failed`.

Expected service failures (`ImagesError`) that a screen shows in place (a form's error
line, the list's status row) are caught by that worker; the rest arrive here.
"""

from __future__ import annotations

from textual.message import Message
from textual.worker import Worker, WorkerState

from imgtui.service import ImagesError


def describe_failure(error: BaseException) -> str:
    """`ERROR code: message` for a service error; the exception's type and text otherwise."""
    if isinstance(error, ImagesError):
        return str(error)
    # The service promises ImagesError only: anything else is a bug, shown rather than lost.
    return f"Unexpected error ({type(error).__name__}): {error}"


class WorkerFailed(Message):
    """A worker of some screen or modal raised; the App reports it."""

    def __init__(self, worker: Worker, error: BaseException) -> None:
        super().__init__()
        self.worker = worker
        self.error = error


class ForwardsWorkerErrors:
    """Mixed into every Screen and ModalScreen of the app (before the Textual base)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state != WorkerState.ERROR or error is None:
            return
        self.worker_failed(event.worker, error)
        event.worker.node.app.post_message(WorkerFailed(event.worker, error))

    def worker_failed(self, worker: Worker, error: BaseException) -> None:
        """Mend this screen's own state after `worker` raised `error` (the App notifies)."""
