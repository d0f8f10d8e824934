"""An upload form's bookkeeping, without Textual: the queue of items, then the runs over it.

Before the first run items can be added (duplicates skipped) and removed. Once a run starts
the queue is fixed, so a row number names one item for good: a run sends some rows (all of
them first, then the retryable ones), and each finished run records every row's latest
outcome. The upload form shows this object; it never reads its own widgets to know where
the run stands.
"""

from __future__ import annotations

from collections.abc import Iterable

from imgtui.service import ImageMetadata
from imgtui.workflows.upload_queue import UploadItem, UploadOutcome, UploadSummary, is_transient


class UploadRun:
    """The queued items, which rows the current run sends, and what became of each row."""

    def __init__(self) -> None:
        self.items: list[UploadItem] = []
        self.uploaded: list[ImageMetadata] = []  # every image that landed, in arrival order
        self.started = False  # once a run began, the queue is fixed (rows map to items)
        self.pending: list[int] = []  # rows worth sending again after a run: failed or not sent
        self._latest: dict[int, UploadOutcome] = {}  # row -> its latest outcome
        self._sending: list[int] = []  # the run's queue index -> row

    # ----------------------------------------------------------------- the queue

    @property
    def can_edit(self) -> bool:
        """Items may be added or removed (no run has started)."""
        return not self.started

    def add(self, items: Iterable[UploadItem]) -> list[UploadItem]:
        """Queue the items not queued yet (same file or URL); returns those added."""
        if self.started:
            return []
        known = {item.key for item in self.items}
        fresh: list[UploadItem] = []
        for item in items:
            if item.key not in known:
                known.add(item.key)
                fresh.append(item)
        self.items.extend(fresh)
        return fresh

    def remove(self, item: UploadItem) -> bool:
        if self.started or item not in self.items:
            return False
        self.items.remove(item)
        return True

    # ----------------------------------------------------------------- runs

    @property
    def rows_to_send(self) -> list[int]:
        """What Upload sends now: every row first, then only the retryable ones."""
        return list(self.pending) if self.started else list(range(len(self.items)))

    @property
    def can_upload(self) -> bool:
        return bool(self.items) and (not self.started or bool(self.pending))

    def start(self) -> list[UploadItem]:
        """Begin a run over `rows_to_send`; returns its items, in the run's order."""
        self._sending = self.rows_to_send
        self.started = True
        return [self.items[row] for row in self._sending]

    def row_of(self, queue_index: int) -> int:
        """The queue row of the running queue's item `queue_index`."""
        return self._sending[queue_index]

    def finish(self, outcomes: list[UploadOutcome]) -> None:
        """Record a run's outcomes (one per item sent, in the run's order)."""
        for row, outcome in zip(self._sending, outcomes, strict=True):
            self._latest[row] = outcome
            if outcome.status == "done" and outcome.image is not None:
                self.uploaded.append(outcome.image)
        # A file refused for what it is (bad request, already exists, too large, not an
        # image, ...) would be refused again: only the others are offered a retry.
        self.pending = [row for row in self._sending if self._latest[row].retryable]

    # ----------------------------------------------------------------- verdicts

    @property
    def outcomes(self) -> list[UploadOutcome]:
        """Each row's latest outcome, in queue order (rows never sent are left out)."""
        return [self._latest[row] for row in sorted(self._latest)]

    @property
    def all_done(self) -> bool:
        outcomes = self.outcomes
        return bool(outcomes) and all(outcome.status == "done" for outcome in outcomes)

    @property
    def any_refused(self) -> bool:
        """Some row failed for good (it is not offered a retry)."""
        return any(outcome.status == "failed" and not outcome.retryable for outcome in self.outcomes)

    @property
    def retry_may_help(self) -> bool:
        """A pending row failed for a passing reason (network, rate limit): Retry is the next step."""
        return any(
            (error := self._latest[row].error) is not None and is_transient(error) for row in self.pending
        )

    def summary(self) -> UploadSummary:
        return UploadSummary.of(self.outcomes)
