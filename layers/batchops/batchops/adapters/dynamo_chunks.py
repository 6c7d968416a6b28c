"""ChunkRepository over the batches table: chunk records with leases, and results stored in compressed groups
written in one transaction with the counts they add (see dynamo_keys for the layout)."""

import json
import random
import time
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from batchops.adapters.aws_errors import aws_errors, error_code
from batchops.adapters.dynamo_batches import OPEN_STATUSES, DynamoBatchRepository, error_record, source_record
from batchops.adapters.dynamo_codec import from_item, to_attr, to_item
from batchops.adapters.dynamo_keys import (
    batch_pk,
    chunk_records,
    chunk_sk,
    key,
    meta_key,
    query_all,
    recorded_in_chunk,
    results_pk,
    results_sk,
    write_batched,
)
from batchops.domain.chunks import Chunk, ChunkState, Lease
from batchops.domain.errors import LeaseLostError, StoreUnavailableError
from batchops.domain.models import (
    FINAL_STATUSES,
    Batch,
    BatchItem,
    BatchStatus,
    Counts,
    ErrorInfo,
    ItemOutcome,
    ItemRef,
    ItemSource,
    ItemStatus,
    Plan,
    StopReason,
)
from batchops.domain.ports import LiveState

# Results per group record: compressed, a group stays far below DynamoDB's 400 KB per record.
_GROUP_SIZE = 200
# Groups per transaction (TransactWriteItems takes 100 actions and 4 MB).
_GROUPS_PER_TRANSACTION = 10
_CONFLICT_ATTEMPTS = 5


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _row(item: BatchItem) -> dict[str, Any]:
    outcome = item.outcome or ItemOutcome(item.status, "")
    row: dict[str, Any] = {"i": item.index, "s": item.status.value, "m": outcome.message, "d": item.duration_ms or 0}
    if item.ref.item_id is not None:
        row["id"] = item.ref.item_id
    if item.ref.body is not None:
        row["b"] = item.ref.body
    if outcome.error:
        row["e"] = [outcome.error.code, outcome.error.message]
    if outcome.warnings:
        row["w"] = [[w.code, w.message] for w in outcome.warnings]
    if outcome.output is not None:
        row["o"] = outcome.output
    if item.finished_at is not None:
        row["f"] = item.finished_at.isoformat()
    return row


def _item(batch_id: str, row: dict[str, Any]) -> BatchItem:
    status = ItemStatus(row["s"])
    outcome = ItemOutcome(
        status,
        row["m"],
        ErrorInfo(*row["e"]) if "e" in row else None,
        tuple(ErrorInfo(*w) for w in row.get("w", [])),
        row.get("o"),
    )
    finished = datetime.fromisoformat(row["f"]) if "f" in row else None
    return BatchItem(batch_id, row["i"], ItemRef(row.get("id"), row.get("b")), status, outcome, row["d"], finished)


def _chunk_state(r: dict[str, Any]) -> ChunkState:
    chunk = Chunk(int(r["sk"].removeprefix("CHUNK#")), r["first"], r["count"], r["start"], r["end"])
    until = r.get("leaseUntil")
    return ChunkState(chunk, bool(r.get("done")), None if until is None else _at(int(until)), recorded_in_chunk(r))


class DynamoChunkRepository:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._db = client
        self._batches = DynamoBatchRepository(table_name, self._db)

    def get(self, batch_id: str) -> Batch | None:
        return self._batches.get(batch_id)

    def request_stop(self, batch_id: str, reason: StopReason) -> None:
        self._batches.request_stop(batch_id, reason)

    def live_state(self, batch_id: str) -> LiveState | None:
        with aws_errors("reading the state of a batch"):
            reply = self._db.get_item(
                TableName=self._table,
                Key=meta_key(batch_id),
                ConsistentRead=True,
                # Only what a chunk looks at, read once per `threads` items: not the batch's params and options.
                ProjectionExpression="#status, stopReason, succeededItems, failedItems, itemDurationMs",
                ExpressionAttributeNames={"#status": "status"},
            )
        if "Item" not in reply:
            return None
        r = from_item(reply["Item"])
        reason = r.get("stopReason")
        return LiveState(
            StopReason(reason) if reason else None,
            BatchStatus(r["status"]) in FINAL_STATUSES,
            Counts(succeeded=r["succeededItems"], failed=r["failedItems"], item_duration_ms=r["itemDurationMs"]),
        )

    def plan(self, batch_id: str, plan: Plan, total_items: int, source: ItemSource, chunks: Sequence[Chunk]) -> None:
        records = [
            {
                "pk": batch_pk(batch_id),
                "sk": chunk_sk(c.number),
                "first": c.first_index,
                "count": c.count,
                "start": c.start,
                "end": c.end,
                "done": False,
                "succeeded": 0,
                "failed": 0,
            }
            for c in chunks
        ]
        concurrency = plan.concurrency
        with aws_errors("storing the chunks of a batch"):
            write_batched(self._db, self._table, [{"PutRequest": {"Item": to_item(r)}} for r in records])
            self._db.update_item(
                TableName=self._table,
                Key=meta_key(batch_id),
                UpdateExpression="SET #plan = :plan, totalItems = :total, #source = :source",
                ExpressionAttributeNames={"#plan": "plan", "#source": "source"},
                ExpressionAttributeValues={
                    ":plan": to_attr(
                        {
                            "threads": concurrency.threads,
                            "parallelChunks": concurrency.parallel_chunks,
                            "chunkSize": concurrency.chunk_size,
                            "chunkCount": plan.chunk_count,
                        }
                    ),
                    ":total": to_attr(total_items),
                    ":source": to_attr(source_record(source)),
                },
            )

    def reject(self, batch_id: str, error: ErrorInfo) -> None:
        with aws_errors("refusing a manifest"):
            self._db.update_item(
                TableName=self._table,
                Key=meta_key(batch_id),
                UpdateExpression="SET stopReason = :reason, #error = :error",
                ExpressionAttributeNames={"#error": "error"},
                ExpressionAttributeValues={
                    ":reason": to_attr(StopReason.INVALID_MANIFEST.value),
                    ":error": to_attr(error_record(error)),
                },
            )

    def chunks(self, batch_id: str, first_number: int, limit: int) -> list[ChunkState]:
        with aws_errors("reading the chunks of a batch"):
            reply = self._db.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
                ExpressionAttributeValues={
                    ":pk": to_attr(batch_pk(batch_id)),
                    ":first": to_attr(chunk_sk(first_number)),
                    ":last": to_attr(chunk_sk(9_999_999)),
                },
                ConsistentRead=True,
                Limit=limit,
            )
        return [_chunk_state(from_item(r)) for r in reply.get("Items", [])]

    def unfinished_chunks(self, batch_id: str) -> list[ChunkState]:
        return [state for state in self._all_chunks(batch_id) if not state.done]

    def claim_chunk(self, batch_id: str, number: int, lease: Lease) -> bool:
        with aws_errors("claiming a chunk"):
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key=key(batch_pk(batch_id), chunk_sk(number)),
                    UpdateExpression="SET leaseExec = :exec, leaseAttempt = :attempt, leaseUntil = :until",
                    # Free, expired, or held by an earlier attempt of the same workflow (which crashed).
                    ConditionExpression=(
                        "attribute_exists(pk) AND (attribute_not_exists(leaseExec) OR leaseUntil < :now"
                        " OR (leaseExec = :exec AND leaseAttempt <= :attempt))"
                    ),
                    ExpressionAttributeValues={
                        ":exec": to_attr(lease.execution),
                        ":attempt": to_attr(lease.attempt),
                        ":until": to_attr(_ms(lease.until)),
                        ":now": to_attr(_ms(lease.taken_at)),
                    },
                )
            except ClientError as e:
                if error_code(e) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def results(self, batch_id: str, number: int) -> list[BatchItem]:
        found: list[BatchItem] = []
        with aws_errors("reading results"):
            for record in query_all(self._db, self._table, results_pk(batch_id, number)):
                rows = json.loads(zlib.decompress(record["rows"]["B"]))
                found.extend(_item(batch_id, row) for row in rows)
        return found

    def record_results(
        self, batch_id: str, number: int, lease: Lease, items: Sequence[BatchItem], done: bool, release: bool
    ) -> None:
        groups = [list(items[i : i + _GROUP_SIZE]) for i in range(0, len(items), _GROUP_SIZE)]
        batches = [groups[i : i + _GROUPS_PER_TRANSACTION] for i in range(0, len(groups), _GROUPS_PER_TRANSACTION)]
        if not batches:
            batches = [[]]
        for n, part in enumerate(batches):
            last = n == len(batches) - 1
            self._transact(batch_id, number, lease, part, done and last, release and last)

    def _transact(
        self, batch_id: str, number: int, lease: Lease, groups: list[list[BatchItem]], done: bool, release: bool
    ) -> None:
        succeeded = sum(1 for g in groups for i in g if i.status is ItemStatus.SUCCEEDED)
        failed = sum(1 for g in groups for i in g if i.status is ItemStatus.FAILED)
        duration = sum(i.duration_ms or 0 for g in groups for i in g)
        chunk_update = "ADD succeeded :s, failed :f SET done = :done"
        if release:
            chunk_update += " REMOVE leaseExec, leaseAttempt, leaseUntil"
        lease_values = {":exec": to_attr(lease.execution), ":attempt": to_attr(lease.attempt)}
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **key(results_pk(batch_id, number), results_sk(min(i.index for i in group))),
                        "rows": {"B": zlib.compress(json.dumps([_row(i) for i in group]).encode(), 6)},
                        "n": to_attr(len(group)),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for group in groups
        ]
        actions.append(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": key(batch_pk(batch_id), chunk_sk(number)),
                    "UpdateExpression": chunk_update,
                    "ConditionExpression": "leaseExec = :exec AND leaseAttempt = :attempt",
                    "ExpressionAttributeValues": {
                        ":s": to_attr(succeeded),
                        ":f": to_attr(failed),
                        ":done": to_attr(done),
                        **lease_values,
                    },
                }
            }
        )
        if groups:
            actions.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": meta_key(batch_id),
                        "UpdateExpression": "ADD succeededItems :s, failedItems :f, itemDurationMs :d",
                        # A late chunk of a batch already closed must not move its final counts.
                        "ConditionExpression": "#status IN (:pending, :scheduled, :processing)",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":s": to_attr(succeeded),
                            ":f": to_attr(failed),
                            ":d": to_attr(duration),
                            **OPEN_STATUSES,
                        },
                    }
                }
            )
        self._write(actions, lease_index=len(groups))

    def _write(self, actions: list[dict[str, Any]], lease_index: int) -> None:
        with aws_errors("recording results"):
            for attempt in range(_CONFLICT_ATTEMPTS):
                try:
                    self._db.transact_write_items(TransactItems=actions)
                    return
                except ClientError as e:
                    if error_code(e) != "TransactionCanceledException":
                        raise
                    reasons = [r.get("Code") for r in e.response.get("CancellationReasons", [])]
                    if len(reasons) > lease_index and reasons[lease_index] == "ConditionalCheckFailed":
                        raise LeaseLostError("another invocation took the chunk over") from e
                    if "ConditionalCheckFailed" in reasons:
                        return  # the batch is final already: its counts stand, late results are dropped
                    if "TransactionConflict" not in reasons or attempt == _CONFLICT_ATTEMPTS - 1:
                        raise StoreUnavailableError(
                            "recording results was refused: " + ",".join(map(str, reasons))
                        ) from e
                    # Two chunks moved the batch's counts at the same moment: try again shortly.
                    time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311 - jitter, not a secret

    def _all_chunks(self, batch_id: str) -> Iterator[ChunkState]:
        with aws_errors("reading the chunks of a batch"):
            yield from (_chunk_state(from_item(r)) for r in chunk_records(self._db, self._table, batch_id))
