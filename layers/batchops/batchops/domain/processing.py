"""Running one chunk of a batch: its items on a few threads, their results recorded in groups, exactly once."""

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from batchops.domain.chunks import Chunk, Lease
from batchops.domain.errors import (
    BatchNotFoundError,
    BatchOpsError,
    BatchStoppedError,
    ChunkBusyError,
    StoreUnavailableError,
)
from batchops.domain.inputs import ChunkInputs
from batchops.domain.models import Batch, BatchItem, Counts, ItemOutcome, ItemRef, ItemStatus, StopReason
from batchops.domain.ports import ChunkRepository, Clock, ItemTask, OperationRunner

_NOT_STARTED = {
    StopReason.STOPPED_ON_ERROR: "Not started: an earlier item failed and continueOnError is false",
    StopReason.FAILURE_THRESHOLD_EXCEEDED: "Not started: too many items failed (failureThresholdPercent)",
    StopReason.CANCELLED: "Not started: the batch was cancelled",
    StopReason.INVALID_MANIFEST: "Not started: the manifest is invalid",
}


def not_started(reason: StopReason | None) -> ItemOutcome:
    """What an item that never started ends as: cancelled by its owner, else skipped."""
    if reason is StopReason.CANCELLED:
        return ItemOutcome(ItemStatus.CANCELLED, _NOT_STARTED[reason])
    message = _NOT_STARTED[reason] if reason else "Not started: the batch ended because of a system error"
    return ItemOutcome(ItemStatus.SKIPPED, message)


def system_failure(error_name: str) -> ItemOutcome:
    return ItemOutcome.failed(
        "internal_error", f"The item could not be processed because of a system error ({error_name})"
    )


@dataclass(frozen=True)
class Timing:
    # Recorded results are written, and the batch's counts read again, at least this often.
    flush_ms: float = 1000.0
    # A chunk reads the stop flag at most this often: 40 chunks of 25 threads at 10 ms per item would read
    # the batch record ~8,000 times a second, past a DynamoDB partition's 3,000 strongly consistent reads;
    # paced, 40 x 40 = 1,600. A read lets about threads / 2 more items start: 500 items/s per chunk at 25.
    look_ms: float = 25.0


@dataclass(frozen=True)
class ChunkRun:
    """One invocation's share of a chunk: no item starts after `deadline_ms` (monotonic)."""

    batch_id: str
    number: int
    threads: int
    lease: Lease
    deadline_ms: float


@dataclass(frozen=True)
class ChunkResult:
    # Every item of the chunk is recorded, or the batch stopped: nothing more to do for it.
    done: bool
    # What this invocation recorded.
    succeeded: int = 0
    failed: int = 0
    # The batch's operation (for the metrics of the invocation); None when the chunk had nothing left.
    operation: str | None = None


@dataclass(frozen=True)
class ChunkProcessor:
    repo: ChunkRepository
    inputs: ChunkInputs
    runner: OperationRunner
    clock: Clock
    timing: Timing = Timing()

    def run(self, run: ChunkRun) -> ChunkResult:
        """Process the chunk's items not yet recorded, until done (all recorded, or the batch stopped) or the
        deadline. Raises ChunkBusyError, StoreUnavailableError, and BatchStoppedError when the batch stopped
        before the chunk started (its items are left unrecorded: they count as not started)."""
        batch, chunk = self._load(run.batch_id, run.number)
        if chunk is None:
            return ChunkResult(done=True)
        if batch.stop_reason or batch.is_final:
            raise BatchStoppedError(f"batch {run.batch_id} stopped before chunk {run.number} started")
        if not self.repo.claim_chunk(run.batch_id, run.number, run.lease):
            raise ChunkBusyError(f"chunk {run.number} of batch {run.batch_id} is being processed")
        recorded = {item.index for item in self.repo.results(run.batch_id, run.number)}
        todo = deque(self.inputs.runnable(batch, chunk, recorded))
        session = _Session(self, batch, run, todo)
        session.work_on_threads()
        return session.finish()

    def give_up(self, run: ChunkRun, error_name: str) -> None:
        """Retries ran out for the chunk: record its unrecorded items failed, so the batch goes on."""
        batch, chunk = self._load(run.batch_id, run.number)
        if chunk is None:
            return
        self.repo.claim_chunk(run.batch_id, run.number, run.lease)
        recorded = {item.index for item in self.repo.results(run.batch_id, run.number)}
        session = _Session(self, batch, run, deque())
        for index, ref in self.inputs.items(batch, chunk):
            if index not in recorded:
                session.finished(BatchItem(run.batch_id, index, ref), system_failure(error_name), 0)
        session.finish(done=True)

    def _load(self, batch_id: str, number: int) -> tuple[Batch, Chunk | None]:
        batch = self.repo.get(batch_id)
        if batch is None:
            raise BatchNotFoundError(batch_id)
        states = self.repo.chunks(batch_id, number, 1)
        if not states or states[0].chunk.number != number or states[0].done:
            return batch, None
        return batch, states[0].chunk


@dataclass
class _Session:
    """The state one invocation shares among its threads."""

    processor: ChunkProcessor
    batch: Batch
    run: ChunkRun
    todo: deque[tuple[int, ItemRef]]
    buffer: list[BatchItem] = field(default_factory=list)
    written: list[int] = field(default_factory=lambda: [0, 0])  # succeeded, failed
    stopped: bool = False
    transient: BatchOpsError | None = None

    def __post_init__(self) -> None:
        # The batch's counts as last read; with the unflushed results, what the failure threshold looks at.
        self.known_counts = self.batch.counts
        self.lock = threading.Lock()
        self.flush_lock = threading.Lock()
        # Items started, and up to how many may start (see _permit).
        self.starts = self.allowed = 0
        self.looking = False
        self.looked = threading.Condition(self.lock)
        self.last_flush = self.processor.clock.monotonic_ms()
        self.last_look: float | None = None

    def work_on_threads(self) -> None:
        threads = min(self.run.threads, len(self.todo))
        if threads <= 1:
            self._work()
            return
        with ThreadPoolExecutor(threads, thread_name_prefix="item") as pool:
            for future in [pool.submit(self._work) for _ in range(threads)]:
                future.result()

    def _work(self) -> None:
        clock = self.processor.clock
        while True:
            with self.lock:
                if self.stopped or not self.todo or clock.monotonic_ms() >= self.run.deadline_ms:
                    return
            if not self._permit():
                return
            with self.lock:
                if not self.todo:
                    return
                index, ref = self.todo.popleft()
            item = BatchItem(self.batch.batch_id, index, ref)
            started = clock.monotonic_ms()
            outcome = self._apply(item)
            if outcome is None:
                return
            self.finished(item, outcome, round(clock.monotonic_ms() - started))
            if clock.monotonic_ms() - self.last_flush >= self.processor.timing.flush_ms:
                self._flush(done=False)

    def _apply(self, item: BatchItem) -> ItemOutcome | None:
        task = ItemTask(
            self.batch.batch_id, self.batch.owner, item.index, item.ref, self.batch.params, self.processor.clock.now()
        )
        try:
            return self.processor.runner.run(self.batch.operation, task)
        except StoreUnavailableError as e:
            # Worth a retry of the chunk (the state machine's): stop here, keep what is recorded.
            with self.lock:
                self.transient, self.stopped = e, True
                self.todo.appendleft((item.index, item.ref))
            return None
        except Exception as e:  # noqa: BLE001 - one item's breakdown must not lose the others' results
            return system_failure(type(e).__name__)

    def finished(self, item: BatchItem, outcome: ItemOutcome, duration_ms: int) -> None:
        if outcome.status is ItemStatus.FAILED and not self.batch.options.continue_on_error:
            # Told before the item is stored, so a crash in between still stops the batch.
            self.processor.repo.request_stop(self.batch.batch_id, StopReason.STOPPED_ON_ERROR)
            with self.lock:
                self.stopped = True
        done = replace(
            item,
            ref=self.processor.inputs.public(self.batch, item.ref),
            status=outcome.status,
            outcome=outcome,
            duration_ms=duration_ms,
            finished_at=self.processor.clock.now(),
        )
        with self.lock:
            self.buffer.append(done)
            counts = self._counts_with_buffer()
        threshold = self.batch.options.failure_threshold_percent
        if threshold is not None and counts.exceeds(threshold, self.batch.total_items or 0):
            self.processor.repo.request_stop(self.batch.batch_id, StopReason.FAILURE_THRESHOLD_EXCEEDED)
            with self.lock:
                self.stopped = True

    def _counts_with_buffer(self) -> Counts:
        """The last read counts and this invocation's results not yet written (never counted twice: the read
        follows each write, and a write empties the buffer)."""
        known = self.known_counts
        return replace(
            known,
            succeeded=known.succeeded + sum(i.status is ItemStatus.SUCCEEDED for i in self.buffer),
            failed=known.failed + sum(i.status is ItemStatus.FAILED for i in self.buffer),
        )

    def _permit(self) -> bool:
        """Leave to start one item. A look at the stop flag that began when `n` items had started allows starts
        up to n + threads: once a stop is recorded, every later look sees it, and the earlier ones allowed at
        most `threads` more starts. So this chunk starts at most `threads` items after a stop, the batch at most
        maxConcurrency, for one read per `threads / 2` items, made while the other threads go on."""
        with self.lock:
            while True:
                if self.stopped:
                    return False
                if not self.looking and self.allowed - self.starts <= self.run.threads // 2:
                    self.looking, started_at = True, self.starts
                    break
                if self.starts < self.allowed:
                    self.starts += 1
                    return True
                self.looked.wait()
        self._look(started_at)
        return self._permit()

    def _look(self, started_at: int) -> None:
        clock, pace = self.processor.clock, self.processor.timing.look_ms
        if self.last_look is not None and (pause := self.last_look + pace - clock.monotonic_ms()) > 0:
            clock.sleep_ms(pause)  # the other threads go on with what the last look allowed
        self.last_look = clock.monotonic_ms()
        try:
            self._apply_live_state()
        except BatchOpsError as e:
            with self.lock:
                self.transient, self.stopped = e, True
        finally:
            with self.lock:
                self.allowed = max(self.allowed, started_at + self.run.threads)
                self.looking = False
                self.looked.notify_all()

    def _apply_live_state(self) -> None:
        live = self.processor.repo.live_state(self.batch.batch_id)
        with self.lock:
            if live is None or live.stop_reason or live.is_final:
                self.stopped = True
                return
            self.known_counts = live.counts

    def _flush(self, done: bool, last: bool = False) -> None:
        with self.flush_lock:
            with self.lock:
                items, self.buffer = self.buffer, []
            if items or last:
                self.processor.repo.record_results(
                    self.batch.batch_id, self.run.number, self.run.lease, items, done=done, release=last
                )
                self.written[0] += sum(i.status is ItemStatus.SUCCEEDED for i in items)
                self.written[1] += sum(i.status is ItemStatus.FAILED for i in items)
            self.last_flush = self.processor.clock.monotonic_ms()
            if items and not done:
                self._apply_live_state()

    def finish(self, done: bool | None = None) -> ChunkResult:
        """The last write of this invocation; the chunk is done once nothing is left or the batch stopped."""
        if self.transient is not None:
            self._flush(done=False, last=True)
            raise self.transient
        if done is None:
            done = not self.todo or self.stopped or bool(self.batch.stop_reason) or self.batch.is_final
        self._flush(done=done, last=True)
        succeeded, failed = self.written
        return ChunkResult(done, succeeded, failed, self.batch.operation)
