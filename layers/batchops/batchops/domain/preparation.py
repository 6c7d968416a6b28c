"""Preparing a batch: its manifest checked in full before any item runs, then cut into chunks."""

from dataclasses import dataclass

from batchops.domain.chunks import cut, split_concurrency
from batchops.domain.errors import BatchNotFoundError, ChunksRunningError
from batchops.domain.manifests import LineReader, check_manifest
from batchops.domain.models import ErrorInfo, Plan, StopReason
from batchops.domain.ports import ChunkRepository, Clock, ItemDecoder, ItemStore


@dataclass(frozen=True)
class Round:
    """What one round of the workflow's Map runs: the chunks listed at `chunks_key`."""

    # False when the manifest failed its check: nothing runs, the batch fails with invalid_manifest.
    valid: bool
    chunk_count: int = 0
    chunks_key: str | None = None
    threads: int = 1
    parallel_chunks: int = 1
    processed: int = 0
    stalled: bool = False


@dataclass(frozen=True)
class Progress:
    """Where a round started: how many chunks it had to run, and how many items were processed by then."""

    chunk_count: int
    processed: int


@dataclass(frozen=True)
class BatchPreparer:
    repo: ChunkRepository
    store: ItemStore
    decoder: ItemDecoder
    clock: Clock

    def prepare(self, batch_id: str) -> Round:
        """Round 0: check every line, store the chunks, list them all."""
        batch = self.repo.get(batch_id)
        if batch is None:
            raise BatchNotFoundError(batch_id)
        if batch.stop_reason is StopReason.INVALID_MANIFEST:
            return Round(valid=False)
        if batch.plan is not None:
            # A retried invocation after the plan was stored: the same chunks, still to run.
            return self.next_round(batch_id, 0, None)
        source = self.store.adopt(batch_id, batch.source)
        check = check_manifest(LineReader(self.decoder, batch.operation, source), self.store.lines(source))
        if check.problems:
            told = len(check.problems)
            more = f"; the first {told} are listed" if check.problem_count > told else ""
            message = f"the manifest has {check.problem_count} problem(s){more}; no item was applied"
            self.repo.reject(batch_id, ErrorInfo("invalid_manifest", message, tuple(check.problems)))
            return Round(valid=False)
        total = len(check.starts)
        concurrency = split_concurrency(batch.options.max_concurrency, batch.options.chunk_size, total)
        chunks = cut(check.starts, check.size, concurrency.chunk_size)
        source = check.reader.source
        self.repo.plan(batch_id, Plan(concurrency, len(chunks)), total, source, chunks)
        key = self.store.put_chunk_list(batch_id, 0, chunks)
        return Round(True, len(chunks), key, concurrency.threads, concurrency.parallel_chunks, batch.counts.processed)

    def next_round(self, batch_id: str, number: int, previous: Progress | None) -> Round:
        """The chunks a round left unfinished (a child that ran out of time or broke down), for another round,
        unless that round made no progress at all (a chunk that breaks its child workflow every time) or the
        batch stopped. Raises ChunksRunningError while an invocation still holds a chunk: a round's Map ends
        at the first failed child (a stopped batch's), and the children running then go on to their end."""
        states = self.repo.unfinished_chunks(batch_id)
        now = self.clock.now()
        held = [s.chunk.number for s in states if s.held_until is not None and s.held_until > now]
        if held:
            raise ChunksRunningError(f"chunks {held[:10]} of batch {batch_id} are still running")
        # Read once no chunk is held: the counts no longer move under this round's end.
        batch = self.repo.get(batch_id)
        if batch is None:
            raise BatchNotFoundError(batch_id)
        assert batch.plan is not None, "a batch runs rounds only once prepared"
        concurrency = batch.plan.concurrency
        processed = batch.counts.processed
        chunks = [] if batch.stop_reason or batch.is_final else [s.chunk for s in states]
        stalled = previous is not None and len(chunks) >= previous.chunk_count and processed <= previous.processed
        key = self.store.put_chunk_list(batch_id, number, chunks) if chunks and not stalled else None
        return Round(True, len(chunks), key, concurrency.threads, concurrency.parallel_chunks, processed, stalled)
