"""Preparing a batch: its manifest checked in full before any item runs, then cut into chunks."""

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from batchops.domain.chunks import cut, split_concurrency
from batchops.domain.errors import BatchNotFoundError, ChunksRunningError
from batchops.domain.manifests import LineReader, check_manifest, public_line, secret_values
from batchops.domain.models import ErrorInfo, Plan, StopReason
from batchops.domain.ports import ChunkRepository, Clock, ItemDecoder, ItemStore


@dataclass
class _SecretsApart:
    """One pass over a checked manifest with secret fields: each item's public line (streamed to the public
    manifest) and, per chunk, the sidecar of its items' secrets. Chunks are cut as `cut` cuts them: every
    `chunk_size` items."""

    store: ItemStore
    batch_id: str
    secrets: frozenset[str]
    chunk_size: int
    starts: array = field(default_factory=lambda: array("Q"))  # type: ignore[type-arg]
    size: int = 0

    def lines(self, reader: LineReader, manifest: Iterable[bytes]) -> Iterator[bytes]:
        held: list[dict[str, Any]] = []
        for index, ref in reader.items(manifest, 0):
            line = public_line(ref, self.secrets)
            self.starts.append(self.size)
            self.size += len(line)
            held.append(secret_values(ref, self.secrets))
            if len(held) == self.chunk_size:
                self.store.put_secrets(self.batch_id, index // self.chunk_size, held)
                held = []
            yield line
        if held:
            self.store.put_secrets(self.batch_id, len(self.starts) // self.chunk_size, held)


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
        secrets = self.decoder.secret_fields_of_items(batch.operation)
        # Items with secrets are read once more, from where they are, to set the secrets apart: no copy of them.
        source = self.store.adopt(batch_id, batch.source) if not secrets else batch.source
        check = check_manifest(LineReader(self.decoder, batch.operation, source), self.store.lines(source))
        if check.problems:
            told = len(check.problems)
            more = f"; the first {told} are listed" if check.problem_count > told else ""
            message = f"the manifest has {check.problem_count} problem(s){more}; no item was applied"
            self.repo.reject(batch_id, ErrorInfo("invalid_manifest", message, tuple(check.problems)))
            if secrets:
                self.store.delete_manifest(source)
            return Round(valid=False)
        total = len(check.starts)
        concurrency = split_concurrency(batch.options.max_concurrency, batch.options.chunk_size, total)
        if secrets:
            apart = _SecretsApart(self.store, batch_id, secrets, concurrency.chunk_size)
            # From the first item: past a CSV manifest's header row.
            items = self.store.lines(source, check.starts[0])
            public = self.store.put_public_manifest(batch_id, apart.lines(check.reader, items))
            chunks = cut(apart.starts, apart.size, concurrency.chunk_size)
            self.repo.plan(batch_id, Plan(concurrency, len(chunks)), total, public, chunks)
            # The client's manifest (an upload, or the inline items as sent) goes now: the sidecars hold the
            # secrets until the batch is final, the public manifest the rest for as long as the batch is kept.
            self.store.delete_manifest(source)
        else:
            chunks = cut(check.starts, check.size, concurrency.chunk_size)
            self.repo.plan(batch_id, Plan(concurrency, len(chunks)), total, check.reader.source, chunks)
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
