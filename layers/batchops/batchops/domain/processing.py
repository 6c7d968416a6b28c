"""Processing one item of a batch: the work of one Map iteration."""

from dataclasses import dataclass, replace

from batchops.domain.errors import BatchNotFoundError
from batchops.domain.models import Batch, BatchItem, ItemOutcome, ItemStatus, StopReason
from batchops.domain.ports import BatchRepository, Clock, ItemTask, OperationRunner

_NOT_STARTED = {
    StopReason.STOPPED_ON_ERROR: "Not started: an earlier item failed and continueOnError is false",
    StopReason.FAILURE_THRESHOLD_EXCEEDED: "Not started: too many items failed (failureThresholdPercent)",
    StopReason.CANCELLED: "Not started: the batch was cancelled",
}


def not_started(reason: StopReason | None) -> ItemOutcome:
    """What an item that never started ends as: cancelled by its owner, else skipped."""
    if reason is StopReason.CANCELLED:
        return ItemOutcome(ItemStatus.CANCELLED, _NOT_STARTED[reason])
    message = _NOT_STARTED[reason] if reason else "Not started: the batch ended because of a system error"
    return ItemOutcome(ItemStatus.SKIPPED, message)


@dataclass(frozen=True)
class ItemRecorder:
    """Stores finished items exactly once and keeps the batch's live counters and stop flag."""

    repo: BatchRepository
    clock: Clock

    def load(self, batch_id: str, index: int) -> tuple[Batch, BatchItem]:
        loaded = self.repo.get_with_item(batch_id, index)
        if loaded is None:
            raise BatchNotFoundError(batch_id)
        return loaded

    def record(self, batch: Batch, item: BatchItem, outcome: ItemOutcome, duration_ms: int) -> BatchItem:
        if outcome.status is ItemStatus.FAILED and not batch.options.continue_on_error:
            # Raised before the item is stored, so a crash in between still stops the batch.
            self.repo.request_stop(batch.batch_id, StopReason.STOPPED_ON_ERROR)
        finished = replace(
            item, status=outcome.status, outcome=outcome, duration_ms=duration_ms, finished_at=self.clock.now()
        )
        if self.repo.record_outcome(finished):
            counts = self.repo.add_to_counts(batch.batch_id, finished.status, duration_ms)
            threshold = batch.options.failure_threshold_percent
            if threshold is not None and counts.exceeds(threshold, batch.total_items):
                self.repo.request_stop(batch.batch_id, StopReason.FAILURE_THRESHOLD_EXCEEDED)
        return finished

    def record_system_failure(self, batch_id: str, index: int, error_name: str) -> BatchItem:
        """The item's invocations kept failing for reasons of the system, not of the item: record that."""
        batch, item = self.load(batch_id, index)
        if item.status is not ItemStatus.PENDING:
            return item
        message = f"The item could not be processed because of a system error ({error_name})"
        return self.record(batch, item, ItemOutcome.failed("internal_error", message), 0)


@dataclass(frozen=True)
class ItemProcessor:
    recorder: ItemRecorder
    runner: OperationRunner

    def process(self, batch_id: str, index: int) -> BatchItem:
        batch, item = self.recorder.load(batch_id, index)
        if item.status is not ItemStatus.PENDING:
            # A retried invocation of an item already recorded: report, never apply twice.
            return item
        if batch.stop_reason or batch.is_final:
            return self.recorder.record(batch, item, not_started(batch.stop_reason), 0)

        clock = self.recorder.clock
        started = clock.monotonic_ms()
        task = ItemTask(batch.batch_id, batch.owner, index, item.ref, batch.params, clock.now())
        outcome = self.runner.run(batch.operation, task)
        return self.recorder.record(batch, item, outcome, round(clock.monotonic_ms() - started))
