"""A line per status change of a batch, read from the changes of its record in the batches table, as a DynamoDB
stream would carry them: what the batch really went through, with no polling.

    batch 6b44d5e0-8f0e-4a43-9b2f-3d1c2a7e9f10 pending 0/30 succeeded=0 failed=0 skipped=0
    batch 6b44d5e0-8f0e-4a43-9b2f-3d1c2a7e9f10 processing 24/30 succeeded=24 failed=0 skipped=0
    batch 6b44d5e0-8f0e-4a43-9b2f-3d1c2a7e9f10 completed 30/30 succeeded=28 failed=2 skipped=0

A line when the record's status changes and, while it is processing, when another tenth of its items is done:
a 10,000-item batch prints about a dozen lines, not one per chunk.

The template gives the table no stream, and moto delivers a stream's records only to Lambda: the hook is the
object moto calls with each change of a table's items (its `stream_shard`), with the changes of a transaction
held back until it commits (moto applies a transaction's parts one by one, and puts the table back if one
fails: those changes never happened).
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from batchops.adapters.dynamo_batches import DynamoBatchRepository
from batchops.adapters.dynamo_codec import from_item
from batchops.adapters.dynamo_keys import META
from batchops.domain.models import Batch, BatchStatus
from local.deploy import ACCOUNT_ID

Transact = Callable[[DynamoDBBackend, list[dict[str, Any]]], None]
_log = logging.getLogger("batchops.local")


def change_line(old: Batch | None, new: Batch) -> str | None:
    """The line for a change of a batch's record; None when neither its status nor its tenth of items done moved."""
    moved = new.status is BatchStatus.PROCESSING and old is not None and _tenths_done(old) != _tenths_done(new)
    if old is not None and old.status is new.status and not moved:
        return None
    counts = new.counts
    total = "?" if new.total_items is None else str(new.total_items)
    parts = [
        f"batch {new.batch_id} {new.status.value} {counts.processed}/{total}",
        f"succeeded={counts.succeeded} failed={counts.failed} skipped={counts.skipped}",
    ]
    if counts.cancelled:
        parts.append(f"cancelled={counts.cancelled}")
    if new.status is BatchStatus.SCHEDULED and new.options.scheduled_for is not None:
        parts.append(f"for={new.options.scheduled_for.isoformat()}")
    if new.error is not None:
        parts.append(f"error={new.error.code}")
    return " ".join(parts)


def _tenths_done(batch: Batch) -> int:
    return batch.counts.processed * 10 // batch.total_items if batch.total_items else 0


def _batch(item: Item | None) -> Batch | None:
    if item is None or item.range_key is None or item.range_key.value != META:
        return None  # an item's results, a chunk's record: not the batch's own record
    record = from_item(item.to_json()["Attributes"])
    if "status" not in record:
        return None  # only its key: an update of a record that did not exist
    # Read as the API reads it, by the repository's own mapping of the record.
    return DynamoBatchRepository.to_batch(record)


class _Deferred(threading.local):
    # The lines of the transaction this thread is running, None outside one.
    lines: list[str] | None = None


class _Stream:
    """Stands in for moto's StreamShard on the table: moto calls `add(old, new)` with each change of an item."""

    def __init__(self, changed: Callable[[Item | None, Item | None], None]) -> None:
        self.add = changed

    def __deepcopy__(self, memo: dict[int, Any]) -> "_Stream":
        # moto copies a whole table to roll a transaction back (and for a backup): the copy streams here too.
        return self


class BatchChanges:
    def __init__(self, table_name: str, region: str, write: Callable[[str], None]) -> None:
        self._table_name = table_name
        self._region = region
        self._write = write
        self._deferred = _Deferred()
        self._table: Table | None = None
        self._original: Transact | None = None

    def install(self) -> None:
        """After the deployment: the table must exist."""
        self._table = dynamodb_backends[ACCOUNT_ID][self._region].get_table(self._table_name)
        self._table.stream_shard = _Stream(self._changed)  # type: ignore[assignment]
        self._original = original = DynamoDBBackend.transact_write_items
        deferred, write = self._deferred, self._write

        def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
            deferred.lines = []
            try:
                original(backend, transact_items)
            except Exception:
                deferred.lines = None  # rolled back
                raise
            lines, deferred.lines = deferred.lines, None
            for line in lines:
                write(line)

        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            DynamoDBBackend.transact_write_items = self._original  # type: ignore[method-assign,assignment]
            self._original = None
        if self._table is not None:
            self._table.stream_shard = None
            self._table = None

    def _changed(self, old: Item | None, new: Item | None) -> None:
        # Called inside moto's write of the item: nothing here may fail that write.
        try:
            batch = _batch(new)
            line = change_line(_batch(old), batch) if batch is not None else None
        except (KeyError, TypeError, ValueError) as e:
            _log.warning("a change of a batch record could not be read: %r", e)
            return
        if line is None:
            return
        lines = self._deferred.lines
        if lines is not None:
            lines.append(line)
        else:
            self._write(line)
