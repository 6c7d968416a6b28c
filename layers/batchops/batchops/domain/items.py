"""A batch's items as clients see them: recorded results, and the manifest's lines for items not yet recorded."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import chain, islice

from batchops.domain.chunks import Chunk, ChunkState
from batchops.domain.inputs import ChunkInputs
from batchops.domain.models import Batch, BatchItem, ItemRef, ItemStatus, Page
from batchops.domain.ports import ChunkReader
from batchops.domain.processing import not_started

# Chunk records read per query when walking a batch.
_CHUNKS_PER_READ = 100


@dataclass(frozen=True)
class BatchItems:
    chunks: ChunkReader
    inputs: ChunkInputs

    def all(self, batch: Batch) -> Iterator[BatchItem]:
        """Every item in index order, one chunk in memory at a time. The manifest is read once, from end to end,
        in step with the chunks (not a ranged read per chunk: a batch has up to 10,000 of them)."""
        states = self._states(batch, 0)
        first = next(states, None)
        if first is None:
            return
        whole = Chunk(0, first.chunk.first_index, batch.total_items or 0, first.chunk.start, -1)
        manifest = self.inputs.items(batch, whole)
        for state in chain([first], states):
            lines = list(islice(manifest, state.chunk.count))
            yield from self._merged(batch, state, lines)

    def page(
        self, batch: Batch, status: ItemStatus | None, limit: int, after_index: int | None, max_chunks: int
    ) -> Page:
        """Up to `limit` items after an index. Reads at most `max_chunks` chunks: a rare status in a big batch
        gives short pages (possibly empty) with a next token, never one request that reads the whole batch."""
        start = 0 if after_index is None else after_index + 1
        first_chunk = batch.plan.chunk_of(start) if batch.plan else 0
        found: list[BatchItem] = []
        last_seen = after_index
        for read, state in enumerate(self._states(batch, first_chunk)):
            if read == max_chunks:
                return Page(found, last_seen)
            # A generator: the manifest is read only if the chunk has unrecorded items.
            for item in self._merged(batch, state, self.inputs.items(batch, state.chunk)):
                if item.index < start:
                    continue
                if len(found) == limit:
                    return Page(found, found[-1].index)
                last_seen = item.index
                if status is None or item.status is status:
                    found.append(item)
        return Page(found, None)

    def _merged(self, batch: Batch, state: ChunkState, lines: Iterable[tuple[int, ItemRef]]) -> list[BatchItem]:
        """A chunk's items: its recorded results (not looked up when it has none), its manifest lines for the
        others (not read when all are recorded)."""
        chunk = state.chunk
        recorded = {i.index: i for i in self.chunks.results(batch.batch_id, chunk.number)} if state.recorded else {}
        if len(recorded) == chunk.count:
            return [recorded[i] for i in chunk.indices]
        return [recorded.get(index) or self._unrecorded(batch, index, ref) for index, ref in lines]

    @staticmethod
    def _unrecorded(batch: Batch, index: int, ref: ItemRef) -> BatchItem:
        item = BatchItem(batch.batch_id, index, ref)
        if not batch.is_final:
            return item
        # Never started: the batch stopped, or its workflow broke, before this item's turn.
        outcome = not_started(batch.stop_reason)
        return replace(item, status=outcome.status, outcome=outcome, duration_ms=0, finished_at=batch.completed_at)

    def _states(self, batch: Batch, first: int) -> Iterator[ChunkState]:
        if batch.plan is None:
            # Never prepared (its workflow did not start, or its manifest was refused): the manifest is one
            # chunk, if its items are known good.
            if batch.total_items:
                yield ChunkState(Chunk(0, 0, batch.total_items, 0, -1), done=False)
            return
        while first < batch.plan.chunk_count:
            states = self.chunks.chunks(batch.batch_id, first, _CHUNKS_PER_READ)
            if not states:
                return
            yield from states
            first = states[-1].chunk.number + 1
