"""The aggregator: the final word on a batch's status, counts and timings."""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta

from batchops.domain.errors import BatchNotFoundError
from batchops.domain.models import Batch, BatchItem, BatchStatus, Counts, ErrorInfo, ItemStatus, StopReason
from batchops.domain.notifications import DETAIL_TYPES, notification
from batchops.domain.ports import BatchRepository, Clock, EventPublisher, ReportStore
from batchops.domain.processing import not_started
from batchops.domain.reports import all_reports

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
            result, items = self._close(batch, failure)
        elif not batch.published:
            # A retry after a failed publication, or a batch another path ended (MarkFailed, which cannot
            # touch items): settle its items and counts, then report it like any other.
            items, counts = self._settle(batch)
            if counts != batch.counts:
                self.repo.set_counts(batch_id, counts)
            result = Finalized(replace(batch, counts=counts), now_final=False)
            self._write_reports(batch_id, items)
        else:
            return Finalized(batch, now_final=False)
        if not result.batch.published:
            # Reports and expiry are rewritten alike on a retry; the event is delivered at least once.
            assert result.batch.completed_at is not None
            self.repo.expire(batch_id, items, result.batch.completed_at + self.publication.retention)
            self.publication.events.publish(DETAIL_TYPES[result.batch.status], notification(result.batch))
            self.repo.mark_published(batch_id)
        return result

    def _close(self, batch: Batch, failure: SystemFailure | None) -> tuple[Finalized, list[BatchItem]]:
        """Final status and counts from the item records, with the reports written first."""
        batch_id = batch.batch_id
        items, counts = self._settle(batch)
        final = replace(
            batch,
            status=self._status(batch, failure),
            counts=counts,
            completed_at=self.clock.now(),
            error=self._error(batch, failure),
        )
        # Every item is final by now: the reports are written before the status, so that a client who
        # sees the batch final can download them at once.
        self._write_reports(batch_id, items)
        if not self.repo.finalize(final):
            # Someone else (a concurrent run) finished it first; theirs stands.
            current = self.repo.get(batch_id)
            return Finalized(current if current is not None else final, now_final=False), items
        return Finalized(final, now_final=True), items

    def _settle(self, batch: Batch) -> tuple[list[BatchItem], Counts]:
        """Items never started get their final status; counts come from the item records."""
        batch_id = batch.batch_id
        # Counts come from the item records, not the live counters: they are the source of truth
        # even if a counter update was lost to a crash between an item's two writes.
        items = self.repo.all_items(batch_id)
        pending = [item for item in items if item.status is ItemStatus.PENDING]
        outcome = not_started(batch.stop_reason)
        if pending:
            # Never started: only possible once the batch stopped or the workflow broke.
            now = self.clock.now()
            for item in pending:
                self.repo.record_outcome(
                    replace(item, status=outcome.status, outcome=outcome, duration_ms=0, finished_at=now)
                )
            items = self.repo.all_items(batch_id)

        tally = Counter(item.status for item in items)
        # An item some other writer still holds as pending was not processed: it counts as not started.
        tally[outcome.status] += tally.pop(ItemStatus.PENDING, 0)
        counts = Counts(
            succeeded=tally[ItemStatus.SUCCEEDED],
            failed=tally[ItemStatus.FAILED],
            skipped=tally[ItemStatus.SKIPPED],
            cancelled=tally[ItemStatus.CANCELLED],
            item_duration_ms=sum(item.duration_ms or 0 for item in items),
        )
        return items, counts

    def _write_reports(self, batch_id: str, items: list[BatchItem]) -> None:
        for (scope, fmt), body in all_reports(items).items():
            self.publication.reports.put(batch_id, scope, fmt, body)

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
        if batch.stop_reason:
            return ErrorInfo(batch.stop_reason.value, _STOP_ERRORS[batch.stop_reason])
        return None
