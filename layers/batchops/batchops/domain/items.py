"""A batch's items as clients see them: recorded results, and the manifest's lines for items not yet recorded."""

from collections.abc import Iterator
from dataclasses import dataclass, replace

from batchops.domain.chunks import Chunk
from batchops.domain.models import Batch, BatchItem, ItemRef, ItemStatus, Page
from batchops.domain.ports import ChunkReader
from batchops.domain.processing import ChunkInputs, not_started

# Chunk records read per query when walking a batch.
_CHUNKS_PER_READ = 100


@dataclass(frozen=True)
class BatchItems:
    chunks: ChunkReader
    inputs: ChunkInputs

    def all(self, batch: Batch) -> Iterator[BatchItem]:
        """Every item in index order, one chunk in memory at a time."""
        for chunk in self._chunks(batch, 0):
            yield from self.of_chunk(batch, chunk)

    def page(
        self, batch: Batch, status: ItemStatus | None, limit: int, after_index: int | None, max_chunks: int
    ) -> Page:
        """Up to `limit` items after an index. Reads at most `max_chunks` chunks: a rare status in a big batch
        gives short pages (possibly empty) with a next token, never one request that reads the whole batch."""
        start = 0 if after_index is None else after_index + 1
        first_chunk = batch.plan.chunk_of(start) if batch.plan else 0
        found: list[BatchItem] = []
        last_seen = after_index
        for read, chunk in enumerate(self._chunks(batch, first_chunk)):
            if read == max_chunks:
                return Page(found, last_seen)
            for item in self.of_chunk(batch, chunk):
                if item.index < start:
                    continue
                if len(found) == limit:
                    return Page(found, found[-1].index)
                last_seen = item.index
                if status is None or item.status is status:
                    found.append(item)
        return Page(found, None)

    def of_chunk(self, batch: Batch, chunk: Chunk) -> list[BatchItem]:
        recorded = {item.index: item for item in self.chunks.results(batch.batch_id, chunk.number)}
        if len(recorded) == chunk.count:
            return [recorded[i] for i in chunk.indices]
        return [
            recorded.get(index) or self._unrecorded(batch, index, ref) for index, ref in self.inputs.items(batch, chunk)
        ]

    @staticmethod
    def _unrecorded(batch: Batch, index: int, ref: ItemRef) -> BatchItem:
        item = BatchItem(batch.batch_id, index, ref)
        if not batch.is_final:
            return item
        # Never started: the batch stopped, or its workflow broke, before this item's turn.
        outcome = not_started(batch.stop_reason)
        return replace(item, status=outcome.status, outcome=outcome, duration_ms=0, finished_at=batch.completed_at)

    def _chunks(self, batch: Batch, first: int) -> Iterator[Chunk]:
        if batch.plan is None:
            # Never prepared (its workflow did not start, or its manifest was refused): the manifest is one
            # chunk, if its items are known good.
            if batch.total_items:
                yield Chunk(0, 0, batch.total_items, 0, -1)
            return
        while first < batch.plan.chunk_count:
            states = self.chunks.chunks(batch.batch_id, first, _CHUNKS_PER_READ)
            if not states:
                return
            for state in states:
                yield state.chunk
            first = states[-1].chunk.number + 1
