"""The aggregator: the final word on a batch's status, counts and timings."""

from collections import Counter
from dataclasses import dataclass, replace

from batchops.domain.errors import BatchNotFoundError
from batchops.domain.models import Batch, BatchStatus, Counts, ErrorInfo, ItemStatus, StopReason
from batchops.domain.ports import BatchRepository, Clock
from batchops.domain.processing import not_started

_STOP_ERRORS = {
    StopReason.STOPPED_ON_ERROR: "Stopped after the first failed item because continueOnError is false",
    StopReason.FAILURE_THRESHOLD_EXCEEDED: "Stopped because the share of failed items exceeded failureThresholdPercent",
}


@dataclass(frozen=True)
class SystemFailure:
    """How the workflow failed when it did not reach the aggregator by the normal path."""

    error: str


@dataclass(frozen=True)
class BatchFinalizer:
    repo: BatchRepository
    clock: Clock

    def finalize(self, batch_id: str, failure: SystemFailure | None) -> Batch:
        batch = self.repo.get(batch_id)
        if batch is None:
            raise BatchNotFoundError(batch_id)
        if batch.is_final:
            return batch

        # Counts come from the item records, not the live counters: they are the source of truth
        # even if a counter update was lost to a crash between an item's two writes.
        items = self.repo.all_items(batch_id)
        pending = [item for item in items if item.status is ItemStatus.PENDING]
        if pending:
            # Never started: only possible once the batch stopped or the workflow broke.
            outcome = not_started(batch.stop_reason)
            now = self.clock.now()
            for item in pending:
                self.repo.record_outcome(
                    replace(item, status=outcome.status, outcome=outcome, duration_ms=0, finished_at=now)
                )
            items = self.repo.all_items(batch_id)

        tally = Counter(item.status for item in items)
        unstarted = not_started(batch.stop_reason).status
        counts = Counts(
            succeeded=tally[ItemStatus.SUCCEEDED],
            failed=tally[ItemStatus.FAILED],
            skipped=tally[ItemStatus.SKIPPED],
            cancelled=tally[ItemStatus.CANCELLED],
            item_duration_ms=sum(item.duration_ms or 0 for item in items),
        )
        # An item some other writer still holds as pending was not processed: it counts as not started.
        counts = replace(counts, **{unstarted.value: getattr(counts, unstarted.value) + tally[ItemStatus.PENDING]})
        final = replace(
            batch,
            status=self._status(batch, failure),
            counts=counts,
            completed_at=self.clock.now(),
            error=self._error(batch, failure),
        )
        if not self.repo.finalize(final):
            # Someone else (a cancel, a concurrent run) finished it first; theirs stands.
            current = self.repo.get(batch_id)
            return current if current is not None else final
        return final

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
            return ErrorInfo("system_error", f"Processing stopped by a system error ({failure.error})")
        if batch.stop_reason:
            return ErrorInfo(batch.stop_reason.value, _STOP_ERRORS[batch.stop_reason])
        return None
