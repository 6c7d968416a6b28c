"""The batches table's layout, shared by its adapters.

- `BATCH#<id>` / `META`: the batch record and its live counts.
- `BATCH#<id>` / `CHUNK#<n>`: one record per chunk: its items' range, lease, counts, done.
- `BATCH#<id>#C<n>` / `R#<first index>`: a group of a chunk's recorded results. A partition per chunk
  spreads a big batch's writes over many partitions (a chunk runs at most 25 items at once).
"""

import time
from typing import Any

from batchops.adapters.dynamo_codec import to_attr
from batchops.domain.errors import StoreUnavailableError

META = "META"
BATCH_WRITE_SIZE = 25
_UNPROCESSED_ATTEMPTS = 6


def batch_pk(batch_id: str) -> str:
    return f"BATCH#{batch_id}"


def chunk_sk(number: int) -> str:
    # Zero-padded so the sort key orders chunks by number (a batch has at most 1,000,000 items).
    return f"CHUNK#{number:07d}"


def results_pk(batch_id: str, number: int) -> str:
    return f"BATCH#{batch_id}#C{number:07d}"


def results_sk(first_index: int) -> str:
    return f"R#{first_index:07d}"


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": to_attr(pk), "sk": to_attr(sk)}


def meta_key(batch_id: str) -> dict[str, Any]:
    return key(batch_pk(batch_id), META)


def write_batched(db: Any, table: str, requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem in groups of 25, resending what DynamoDB left unprocessed after a back-off."""
    for start in range(0, len(requests), BATCH_WRITE_SIZE):
        pending = {table: requests[start : start + BATCH_WRITE_SIZE]}
        for attempt in range(_UNPROCESSED_ATTEMPTS):
            pending = db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            # DynamoDB's documented answer to unprocessed items is to resend them after a back-off.
            time.sleep(0.05 * 2**attempt)
        else:
            raise StoreUnavailableError("writing batch records was throttled")


def query_all(db: Any, table: str, pk: str, first_sk: str | None = None, last_sk: str | None = None) -> Any:
    """Every record of a partition (or of a sort key range of it), page after page, strongly consistent."""
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": to_attr(pk)},
        "ConsistentRead": True,
    }
    if first_sk is not None and last_sk is not None:
        query["KeyConditionExpression"] += " AND sk BETWEEN :first AND :last"
        query["ExpressionAttributeValues"].update({":first": to_attr(first_sk), ":last": to_attr(last_sk)})
    while True:
        reply = db.query(**query)
        yield from reply.get("Items", [])
        if "LastEvaluatedKey" not in reply:
            return
        query["ExclusiveStartKey"] = reply["LastEvaluatedKey"]


def chunk_records(db: Any, table: str, batch_id: str, first_number: int = 0) -> Any:
    return query_all(db, table, batch_pk(batch_id), chunk_sk(first_number), chunk_sk(9_999_999))


def recorded_in_chunk(record: dict[str, Any]) -> int:
    """How many results a chunk record (decoded) says were written for its chunk: none means no result groups."""
    return int(record.get("succeeded", 0)) + int(record.get("failed", 0))
