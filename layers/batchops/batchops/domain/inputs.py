"""A chunk's items, read from the batch's manifest: as anyone may see them, or whole (with their secrets)
for the chunk processor."""

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from batchops.domain.chunks import Chunk
from batchops.domain.manifests import LineReader, public_body
from batchops.domain.models import Batch, ItemRef
from batchops.domain.ports import ItemDecoder, ItemStore


@dataclass(frozen=True)
class ChunkInputs:
    """A chunk's items, read from the batch's manifest."""

    store: ItemStore
    decoder: ItemDecoder

    def items(self, batch: Batch, chunk: Chunk) -> Iterator[tuple[int, ItemRef]]:
        """The chunk's items as anyone may see them: without secret fields."""
        end = chunk.end if chunk.end >= 0 else None  # -1: to the end of the manifest
        return self._reader(batch).items(self.store.lines(batch.source, chunk.start, end), chunk.first_index)

    def runnable(self, batch: Batch, chunk: Chunk, skip: Collection[int]) -> Iterator[tuple[int, ItemRef]]:
        """The chunk's items but `skip`, whole (their secrets too): what its operation is applied to."""
        items = ((i, ref) for i, ref in self.items(batch, chunk) if i not in skip)
        if not batch.source.secrets_apart or len(skip) == chunk.count:
            return items
        reader, secrets = self._reader(batch), self.store.secrets(batch.batch_id, chunk.number)
        return ((i, reader.with_secrets(ref, secrets[i - chunk.first_index])) for i, ref in items)

    def public(self, batch: Batch, ref: ItemRef) -> ItemRef:
        """An item as it may be recorded and shown: its secret fields (if any) left out."""
        if not batch.source.secrets_apart or ref.body is None:
            return ref
        secrets = self.decoder.secret_fields_of_items(batch.operation)
        return ItemRef(ref.item_id, public_body(ref.body, secrets))

    def forget_secrets(self, batch: Batch) -> None:
        """Delete the secrets of a final batch's items: nothing will run them again."""
        if batch.source.secrets_apart:
            self.store.delete_secrets(batch.batch_id)

    def _reader(self, batch: Batch) -> LineReader:
        return LineReader(self.decoder, batch.operation, batch.source)
