"""The batch engine: submission, preparation, chunk runs and finalization, over in-memory ports."""

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest

from batchops.domain.batches import Caller, Submission
from batchops.domain.chunks import Lease, cut, split_concurrency
from batchops.domain.errors import (
    BatchNotFoundError,
    BatchStoppedError,
    ChunkBusyError,
    ChunksRunningError,
    InvalidRequestError,
    WorkflowStartError,
)
from batchops.domain.finalization import SystemFailure
from batchops.domain.models import BatchOptions, BatchStatus, ItemStatus
from batchops.domain.ports import LiveState
from batchops.domain.preparation import Progress
from batchops.domain.processing import ChunkRun, Timing
from tests.unit.fakes import content
from tests.unit.world import World


def _statuses(world: World, batch_id: str) -> list[ItemStatus]:
    return [i.status for i in world.items.all(world.repo.batches[batch_id])]


def test_submission_stores_the_items_as_a_manifest_and_starts_one_execution() -> None:
    world = World()
    batch_id = world.submit(["a", "b"])
    assert world.workflow.started == [batch_id]
    assert world.repo.batches[batch_id].status is BatchStatus.PENDING
    assert world.store.objects[f"batches/{batch_id}/items.jsonl"] == b'"a"\n"b"\n'


def test_duplicate_items_are_rejected_before_anything_is_stored() -> None:
    world = World()
    with pytest.raises(InvalidRequestError) as raised:
        world.submit(["a", "b", "a"])
    assert [(p.field, p.message) for p in raised.value.problems] == [
        ("items[2]", "duplicate of items[0] (item id 'a')")
    ]
    assert world.repo.batches == {} and world.workflow.started == [] and world.store.objects == {}


def test_a_batch_that_cannot_start_is_recorded_failed_not_left_pending() -> None:
    world = World(workflow_fails=True)
    with pytest.raises(WorkflowStartError):
        world.submit(["a"])
    (batch,) = world.repo.batches.values()
    assert batch.status is BatchStatus.FAILED
    assert batch.error is not None and batch.error.code == "start_failed"
    # Ended like any batch: its item skipped, its counts adding up, reported and announced.
    assert _statuses(world, batch.batch_id) == [ItemStatus.SKIPPED]
    assert batch.counts.skipped == batch.total_items == 1
    assert [detail["error"]["code"] for _, detail in world.events.published] == ["start_failed"]
    assert batch.batch_id in world.repo.expiries and len(world.reports.objects) == 4


def test_concurrency_splits_into_threads_times_chunks_equal_to_max_concurrency() -> None:
    assert split_concurrency(10, 100, 200) == split_concurrency(10, 100, 10_000)
    for max_concurrency, chunk_size, total in [(1, 100, 50), (10, 100, 200), (100, 100, 200), (10, 3, 30), (7, 3, 30)]:
        split = split_concurrency(max_concurrency, chunk_size, total)
        assert split.threads * split.parallel_chunks == max_concurrency
        assert split.threads <= split.chunk_size <= chunk_size and split.chunk_size % split.threads == 0
    # 200 items at maxConcurrency 100: chunks of 50, four at once with 25 threads each.
    assert split_concurrency(100, 100, 200).chunk_size == 50


def test_chunks_cover_every_item_once_with_their_byte_ranges() -> None:
    chunks = cut([0, 4, 9, 15, 20], 26, 2)
    assert [(c.first_index, c.count, c.start, c.end) for c in chunks] == [(0, 2, 0, 9), (2, 2, 9, 20), (4, 1, 20, 26)]


def test_a_chunk_run_again_after_a_crash_skips_recorded_items_and_applies_none_twice() -> None:
    world = World()
    for cid in "abcd":
        world.content.create(content(cid))
    batch_id = world.submit(["a", "b", "c", "d"])
    prepared = world.start(batch_id)
    assert prepared.chunk_count == 1
    # The first attempt recorded two items, applied a third, and crashed before recording it.
    world.repo.batches[batch_id] = replace(world.repo.batches[batch_id], options=BatchOptions())
    original = world.repo.record_results
    calls = 0

    def crash_on_second_flush(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("crash")
        original(*args, **kwargs)  # type: ignore[arg-type]

    world.repo.record_results = crash_on_second_flush  # type: ignore[method-assign]
    world.processor = replace(world.processor, timing=replace(world.processor.timing, flush_ms=0))
    with pytest.raises(RuntimeError):
        world.run_chunk(batch_id, 0)
    world.repo.record_results = original  # type: ignore[method-assign]
    recorded_before = {i.index for i in world.repo.results(batch_id, 0)}
    assert recorded_before == {0}

    assert world.run_chunk(batch_id, 0, attempt=1).done
    final = world.finalizer.finalize(batch_id, None).batch
    assert final.counts.succeeded == 4 and final.status is BatchStatus.COMPLETED
    # The item applied but not recorded was not applied again: the database saw its change already.
    replayed = [i for i in world.items.all(final) if i.outcome and "restart" in i.outcome.message]
    assert [i.index for i in replayed] == [1]
    assert all(world.content.contents[c].price == 5 for c in "abcd")


def test_a_chunk_held_by_another_workflow_is_busy_until_its_lease_ends() -> None:
    world = World()
    batch_id = world.submit(["a"])
    world.start(batch_id)
    now = world.clock.now()
    assert world.repo.claim_chunk(batch_id, 0, Lease("other", 0, now, now + timedelta(minutes=5)))
    with pytest.raises(ChunkBusyError):
        world.run_chunk(batch_id, 0)
    later = now + timedelta(minutes=6)
    run = ChunkRun(batch_id, 0, 1, Lease("x", 0, later, later + timedelta(minutes=5)), float("inf"))
    assert world.processor.run(run).done


def test_the_next_round_waits_while_a_chunk_is_held_then_lists_none_for_a_stopped_batch() -> None:
    world = World()
    batch_id = world.submit_with(["a", "b"], BatchOptions(chunk_size=1, max_concurrency=1))
    world.start(batch_id)
    now = world.clock.now()
    # A child of the round still runs chunk 0 after the round's Map ended (the batch was cancelled).
    assert world.repo.claim_chunk(batch_id, 0, Lease("child-0", 0, now, now + timedelta(seconds=30)))
    world.service.cancel("alice", batch_id)
    with pytest.raises(BatchStoppedError):
        world.run_chunk(batch_id, 1)
    with pytest.raises(ChunksRunningError):
        world.preparer.next_round(batch_id, 1, Progress(2, 0))
    world.clock.advance(timedelta(seconds=31))  # its lease ran out (or it let go)
    assert world.preparer.next_round(batch_id, 1, Progress(2, 0)).chunk_count == 0


def test_a_chunk_reads_the_stop_flag_at_most_once_per_look_interval_however_fast_its_items() -> None:
    world = World()
    world.clock.tick_ms = 0.01  # items that take no time: only the pacing spaces the reads
    ids = [f"c{n}" for n in range(200)]
    for content_id in ids:
        world.content.create(content(content_id))
    batch_id = world.submit_with(ids, BatchOptions(chunk_size=200, max_concurrency=4))
    prepared = world.start(batch_id)
    looks: list[float] = []
    read = world.repo.live_state

    def live_state(batch_id: str) -> LiveState | None:
        looks.append(world.clock.monotonic_ms())
        return read(batch_id)

    world.repo.live_state = live_state  # type: ignore[method-assign]
    assert world.run_chunk(batch_id, 0, threads=prepared.threads).done

    assert prepared.threads == 4 and len(looks) >= 200 / 4  # each look lets `threads` items start
    assert world.clock.slept_ms > 0
    timing = Timing()
    elapsed = looks[-1] - looks[0]
    # Paced reads are look_ms apart; besides them, one read follows each write of results (once a flush_ms).
    unpaced = [b - a for a, b in itertools.pairwise(looks) if b - a < timing.look_ms - 1]
    assert len(unpaced) <= elapsed / timing.flush_ms + 1, unpaced


def test_after_a_failure_with_continue_on_error_false_no_new_item_is_applied() -> None:
    world = World()
    world.content.create(content("b"))
    batch_id = world.submit(["missing", "b"], continue_on_error=False)
    world.run(batch_id)
    assert world.content.contents["b"].price == 100
    final = world.finalizer.finalize(batch_id, None).batch
    assert _statuses(world, batch_id) == [ItemStatus.FAILED, ItemStatus.SKIPPED]
    assert final.status is BatchStatus.FAILED
    assert final.error is not None and final.error.code == "stopped_on_error"
    assert (final.counts.failed, final.counts.skipped) == (1, 1)


def test_finalization_counts_from_the_counters_and_skips_never_started_items() -> None:
    world = World()
    world.content.create(content("a"))
    batch_id = world.submit_with(["a", "missing", "c"], BatchOptions(chunk_size=1, max_concurrency=1))
    prepared = world.preparer.prepare(batch_id)
    assert prepared.chunk_count == 3
    world.run_chunk(batch_id, 0)
    world.run_chunk(batch_id, 1)

    final = world.finalizer.finalize(batch_id, SystemFailure("States.Runtime")).batch

    assert final.status is BatchStatus.FAILED
    assert final.error is not None and final.error.code == "system_error"
    assert (final.counts.succeeded, final.counts.failed, final.counts.skipped) == (1, 1, 1)
    assert _statuses(world, batch_id)[2] is ItemStatus.SKIPPED
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


def test_a_chunk_that_keeps_failing_records_its_items_failed_once() -> None:
    world = World()
    batch_id = world.submit(["a", "b"])
    world.start(batch_id)
    now = world.clock.now()
    run = ChunkRun(batch_id, 0, 1, Lease("x", 1000, now, now + timedelta(minutes=5)), float("inf"))
    world.processor.give_up(run, "Lambda.ServiceException")
    world.processor.give_up(run, "Lambda.ServiceException")
    items = list(world.items.all(world.repo.batches[batch_id]))
    assert [i.outcome.error.code for i in items if i.outcome and i.outcome.error] == ["internal_error"] * 2
    assert world.repo.batches[batch_id].counts.failed == 2


def test_an_invalid_manifest_fails_the_batch_naming_its_lines_and_applies_nothing() -> None:
    world = World()
    world.content.create(content("a"))
    ticket = world.uploads.create("alice", "up-1", world.store_format(), world.clock.now())
    world.uploads.put(ticket.upload_id, b'"a"\n\n42\n"b"\n"a"\nnot json\n')
    submission = Submission(Caller("alice"), "content.update-price", {"newPrice": 5}, None, BatchOptions(), "up-1")
    batch_id = world.service.submit(submission).batch_id
    assert world.repo.batches[batch_id].total_items is None

    prepared = world.preparer.prepare(batch_id)

    assert not prepared.valid
    final = world.finalizer.finalize(batch_id, None).batch
    assert final.status is BatchStatus.FAILED and final.error is not None
    assert final.error.code == "invalid_manifest"
    assert [d.field for d in final.error.details] == ["line 3", "line 5", "line 6"]
    assert "duplicate of line 1" in final.error.details[1].message
    assert world.content.contents["a"].price == 100


def test_processing_an_unknown_batch_raises_not_found() -> None:
    with pytest.raises(BatchNotFoundError):
        World().run_chunk("nope", 0)


def test_a_round_that_finished_nothing_is_stalled_and_lists_no_chunks() -> None:
    world = World()
    world.content.create(content("a"))
    batch_id = world.submit_with(["a", "b"], BatchOptions(chunk_size=1, max_concurrency=1))
    first = world.start(batch_id)
    world.run_chunk(batch_id, 0)  # chunk 1 breaks its child workflow: never recorded, never done

    second = world.preparer.next_round(batch_id, 1, Progress(first.chunk_count, first.processed))
    assert (second.chunk_count, second.stalled, second.processed) == (1, False, 1)
    third = world.preparer.next_round(batch_id, 2, Progress(second.chunk_count, second.processed))
    assert third.stalled and third.chunks_key is None


def test_a_chunk_out_of_time_leaves_the_rest_for_its_next_invocation_and_records_nothing_twice() -> None:
    world = World()
    for cid in "abcdef":
        world.content.create(content(cid))
    batch_id = world.submit_with(list("abcdef"), BatchOptions(max_concurrency=1))
    world.start(batch_id)
    now = world.clock.now()
    # The fake clock moves 7 ms per reading: room for a couple of items, not six.
    deadline = world.clock.monotonic_ms() + 60
    first = world.processor.run(ChunkRun(batch_id, 0, 1, Lease("x", 0, now, now + timedelta(minutes=5)), deadline))
    assert not first.done and 0 < first.succeeded < 6
    second = world.run_chunk(batch_id, 0)
    assert second.done and first.succeeded + second.succeeded == 6
    assert world.repo.batches[batch_id].counts.succeeded == 6
