"""The aggregator: the final word on a batch's status, counts and timings."""

from dataclasses import dataclass, replace
from datetime import timedelta

from batchops.domain.errors import BatchNotFoundError
from batchops.domain.items import BatchItems
from batchops.domain.models import Batch, BatchStatus, Counts, ErrorInfo, ItemStatus, StopReason
from batchops.domain.notifications import DETAIL_TYPES, notification
from batchops.domain.ports import BatchRepository, Clock, EventPublisher, ReportStore
from batchops.domain.processing import not_started
from batchops.domain.reports import render_all

_STOP_ERRORS = {
    StopReason.STOPPED_ON_ERROR: "Stopped after the first failed item because continueOnError is false",
    StopReason.FAILURE_THRESHOLD_EXCEEDED: "Stopped because the share of failed items exceeded failureThresholdPercent",
}


@dataclass(frozen=True)
class SystemFailure:
    """How the workflow failed when it did not reach the aggregator by the normal path."""

    error: str
    code: str = "system_error"
    message: str | None = None


@dataclass(frozen=True)
class Publication:
    """What a batch leaves behind once final: reports, an event, and an expiry date."""

    reports: ReportStore
    events: EventPublisher
    retention: timedelta
    items: BatchItems


@dataclass(frozen=True)
class Finalized:
    batch: Batch
    # False when the batch was already final before this call.
    now_final: bool


@dataclass(frozen=True)
class BatchFinalizer:
    repo: BatchRepository
    clock: Clock
    publication: Publication

    def finalize(self, batch_id: str, failure: SystemFailure | None) -> Finalized:
        batch = self.repo.get(batch_id)
        if batch is None:
            raise BatchNotFoundError(batch_id)
        if not batch.is_final:
            result = self._close(batch, failure)
        elif not batch.published:
            # A retry after a failed publication, or a batch another path ended (MarkFailed): settle its
            # counts, then report it like any other.
            counts = self._settle(batch)
            if counts != batch.counts:
                self.repo.set_counts(batch_id, counts)
            result = Finalized(replace(batch, counts=counts), now_final=False)
            self._write_reports(result.batch)
        else:
            return Finalized(batch, now_final=False)
        if not result.batch.published:
            # Reports and expiry are rewritten alike on a retry; the event is delivered at least once.
            self.publication.items.inputs.forget_secrets(result.batch)
            self._expire(result.batch)
            self.publication.events.publish(DETAIL_TYPES[result.batch.status], notification(result.batch))
            self.repo.mark_published(batch_id)
        return result

    def _close(self, batch: Batch, failure: SystemFailure | None) -> Finalized:
        """Final status and counts, with the reports written first."""
        final = replace(
            batch,
            status=self._status(batch, failure),
            counts=self._settle(batch),
            completed_at=self.clock.now(),
            error=self._error(batch, failure),
        )
        # Items not recorded by now never started: the reports (written before the status, so that a client
        # who sees the batch final can download them at once) show them skipped or cancelled.
        self._write_reports(final)
        if not self.repo.finalize(final):
            # Someone else (a concurrent run) finished it first; theirs stands.
            current = self.repo.get(batch.batch_id)
            return Finalized(current if current is not None else final, now_final=False)
        return Finalized(final, now_final=True)

    @staticmethod
    def _settle(batch: Batch) -> Counts:
        """Final counts without reading a single item: the live counters are exact (each chunk adds its results
        and their counts in one transaction), and every item not counted never started."""
        counts = batch.counts
        not_counted = max(0, (batch.total_items or 0) - counts.processed - counts.skipped - counts.cancelled)
        if not_started(batch.stop_reason).status is ItemStatus.CANCELLED:
            return replace(counts, cancelled=counts.cancelled + not_counted)
        return replace(counts, skipped=counts.skipped + not_counted)

    def _write_reports(self, batch: Batch) -> None:
        self.publication.reports.put_all(batch.batch_id, render_all(self.publication.items.all(batch)))

    def _expire(self, batch: Batch) -> None:
        assert batch.completed_at is not None
        self.repo.expire(batch.batch_id, batch.completed_at + self.publication.retention)

    @staticmethod
    def _status(batch: Batch, failure: SystemFailure | None) -> BatchStatus:
        # A cancelled batch is cancelled, even if stopping its execution is what ended the workflow.
        if batch.stop_reason is StopReason.CANCELLED:
            return BatchStatus.CANCELLED
        return BatchStatus.FAILED if failure or batch.stop_reason else BatchStatus.COMPLETED

    @staticmethod
    def _error(batch: Batch, failure: SystemFailure | None) -> ErrorInfo | None:
        if batch.stop_reason is StopReason.CANCELLED:
            return None
        if failure is not None:
            return ErrorInfo(failure.code, failure.message or f"Processing stopped by a system error ({failure.error})")
        if batch.error is not None:
            return batch.error  # recorded with the stop (an invalid manifest's lines)
        if batch.stop_reason:
            return ErrorInfo(batch.stop_reason.value, _STOP_ERRORS[batch.stop_reason])
        return None
