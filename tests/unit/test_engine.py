"""The batch engine: submission, item processing and finalization, over in-memory ports."""

import pytest

from batchops.domain.errors import BatchNotFoundError, InvalidRequestError, WorkflowStartError
from batchops.domain.finalization import SystemFailure
from batchops.domain.models import BatchStatus, ItemStatus
from tests.unit.fakes import content
from tests.unit.world import World


def test_submission_stores_pending_items_and_starts_one_execution() -> None:
    world = World()
    batch_id = world.submit(["a", "b"])
    assert world.workflow.started == [batch_id]
    assert world.repo.batches[batch_id].status is BatchStatus.PENDING
    assert [i.status for i in world.repo.all_items(batch_id)] == [ItemStatus.PENDING] * 2


def test_duplicate_items_are_rejected_before_anything_is_stored() -> None:
    world = World()
    with pytest.raises(InvalidRequestError) as raised:
        world.submit(["a", "b", "a"])
    assert raised.value.problems[0].field == "items"
    assert "a" in raised.value.problems[0].message
    assert world.repo.batches == {} and world.workflow.started == []


def test_a_batch_that_cannot_start_is_recorded_failed_not_left_pending() -> None:
    world = World(workflow_fails=True)
    with pytest.raises(WorkflowStartError):
        world.submit(["a"])
    (batch,) = world.repo.batches.values()
    assert batch.status is BatchStatus.FAILED
    assert batch.error is not None and batch.error.code == "start_failed"
    # Ended like any batch: its item skipped, its counts adding up, reported and announced.
    assert [i.status for i in world.repo.all_items(batch.batch_id)] == [ItemStatus.SKIPPED]
    assert batch.counts.skipped == batch.total_items == 1
    assert [detail["error"]["code"] for _, detail in world.events.published] == ["start_failed"]
    assert batch.batch_id in world.repo.expiries and len(world.reports.objects) == 4


def test_a_retried_invocation_never_applies_an_item_twice() -> None:
    world = World()
    world.content.create(content("a"))
    batch_id = world.submit(["a"])
    first = world.processor.process(batch_id, 0)
    again = world.processor.process(batch_id, 0)
    assert first.status is again.status is ItemStatus.SUCCEEDED
    assert len(world.contract.calls) == 1
    assert world.repo.batches[batch_id].counts.succeeded == 1


def test_after_a_failure_with_continue_on_error_false_no_new_item_is_applied() -> None:
    world = World()
    world.content.create(content("b"))
    batch_id = world.submit(["missing", "b"], continue_on_error=False)
    world.run(batch_id)
    statuses = [i.status for i in world.repo.all_items(batch_id)]
    assert statuses == [ItemStatus.FAILED, ItemStatus.SKIPPED]
    assert world.content.contents["b"].price == 100
    final = world.finalizer.finalize(batch_id, None).batch
    assert final.status is BatchStatus.FAILED
    assert final.error is not None and final.error.code == "stopped_on_error"


def test_finalization_counts_from_item_records_and_skips_never_started_items() -> None:
    world = World()
    world.content.create(content("a"))
    batch_id = world.submit(["a", "missing", "c"])
    world.processor.process(batch_id, 0)
    world.processor.process(batch_id, 1)

    final = world.finalizer.finalize(batch_id, SystemFailure("States.Runtime")).batch

    assert final.status is BatchStatus.FAILED
    assert final.error is not None and final.error.code == "system_error"
    assert (final.counts.succeeded, final.counts.failed, final.counts.skipped) == (1, 1, 1)
    assert final.counts.processed + final.counts.skipped == final.total_items
    assert world.repo.all_items(batch_id)[2].status is ItemStatus.SKIPPED
    assert final.duration_ms is None  # never marked processing, so no start time
    assert final.success_rate == 50.0


def test_finalizing_twice_keeps_the_first_result() -> None:
    world = World()
    batch_id = world.submit(["missing"])
    world.run(batch_id)
    first = world.finalizer.finalize(batch_id, None)
    second = world.finalizer.finalize(batch_id, SystemFailure("late"))
    assert (first.now_final, second.now_final) == (True, False)
    assert second.batch.status is first.batch.status is BatchStatus.COMPLETED
    assert second.batch.error is None
    # Reports and the event went out once, with the batch's final status.
    assert [detail["status"] for _, detail in world.events.published] == ["completed"]
    assert len(world.reports.objects) == 4


def test_system_failure_of_one_item_is_recorded_once() -> None:
    world = World()
    batch_id = world.submit(["a", "b"])
    recorder = world.processor.recorder
    item = recorder.record_system_failure(batch_id, 1, "Lambda.ServiceException")
    assert item.outcome is not None and item.outcome.error is not None
    assert item.outcome.error.code == "internal_error"
    recorder.record_system_failure(batch_id, 1, "Lambda.ServiceException")
    assert world.repo.batches[batch_id].counts.failed == 1


def test_processing_an_unknown_batch_raises_not_found() -> None:
    with pytest.raises(BatchNotFoundError):
        World().processor.process("nope", 0)
