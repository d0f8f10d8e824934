"""UploadRun without Textual: queueing, the first run, retries of what may succeed, verdicts."""

from __future__ import annotations

from datetime import UTC, datetime

from imgtui.service import ErrorCode, ImageMetadata, ImagesError
from imgtui.workflows.upload_queue import UploadItem, UploadOutcome
from imgtui.workflows.upload_run import UploadRun


def url_item(name: str) -> UploadItem:
    return UploadItem(url=f"https://example.com/{name}.png")


def done(item: UploadItem, image_id: str) -> UploadOutcome:
    image = ImageMetadata(id=image_id, uploaded=datetime(2026, 1, 1, tzinfo=UTC))
    return UploadOutcome(item, "done", image=image)


def failed(item: UploadItem, code: int) -> UploadOutcome:
    return UploadOutcome(item, "failed", error=ImagesError(code, "no"))


def test_queue_skips_duplicates_and_removal_works_until_a_run_starts() -> None:
    run = UploadRun()
    a, b = url_item("a"), url_item("b")
    assert run.add([a, b, url_item("a")]) == [a, b]
    assert run.add([UploadItem(url=a.url)]) == []  # the same URL: the same upload
    assert run.remove(a) is True and run.items == [b]
    assert run.remove(a) is False
    assert run.can_edit and run.can_upload and run.rows_to_send == [0]
    run.start()
    assert not run.can_edit
    assert run.add([url_item("c")]) == [] and run.remove(b) is False and run.items == [b]


def test_an_empty_queue_cannot_upload() -> None:
    run = UploadRun()
    assert not run.can_upload and run.rows_to_send == []
    assert run.outcomes == [] and not run.all_done and not run.any_refused


def test_first_run_sends_everything_and_maps_queue_indexes_to_rows() -> None:
    run = UploadRun()
    items = [url_item(name) for name in "abc"]
    run.add(items)
    assert run.start() == items and [run.row_of(i) for i in range(3)] == [0, 1, 2]
    run.finish([done(items[0], "x"), done(items[1], "y"), done(items[2], "z")])
    assert run.all_done and run.pending == [] and not run.can_upload
    assert [image.id for image in run.uploaded] == ["x", "y", "z"]
    assert run.summary().text() == "Uploaded 3 of 3."


def test_retry_sends_only_what_may_succeed_and_keeps_each_rows_latest_outcome() -> None:
    run = UploadRun()
    items = [url_item(name) for name in "abcd"]
    run.add(items)
    run.start()
    run.finish(
        [
            done(items[0], "a1"),
            failed(items[1], ErrorCode.NETWORK),  # passing: retried
            failed(items[2], ErrorCode.UNSUPPORTED_IMAGE),  # refused for good: not retried
            UploadOutcome(items[3], "skipped"),  # stopped before sending: retried
        ]
    )
    assert run.pending == [1, 3] and run.can_upload and run.rows_to_send == [1, 3]
    assert run.any_refused and run.retry_may_help and not run.all_done
    assert run.summary().text() == "Uploaded 1 of 4; 2 failed (see above); 1 not sent (stopped)."

    assert run.start() == [items[1], items[3]]
    assert run.row_of(0) == 1 and run.row_of(1) == 3
    run.finish([done(items[1], "b1"), failed(items[3], ErrorCode.ALREADY_EXISTS)])
    assert run.pending == [] and not run.can_upload
    assert [outcome.status for outcome in run.outcomes] == ["done", "done", "failed", "failed"]
    assert [image.id for image in run.uploaded] == ["a1", "b1"]
    assert not run.retry_may_help and not run.all_done


def test_a_retry_that_fails_for_a_lasting_reason_is_not_offered_again_only_if_permanent() -> None:
    run = UploadRun()
    item = url_item("a")
    run.add([item])
    run.start()
    run.finish([failed(item, ErrorCode.NOT_AUTHORIZED)])  # not transient, but not permanent
    assert run.pending == [0] and not run.retry_may_help
