"""BatchRepository over the batches table: the batch records (see dynamo_keys for the layout)."""

import re
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from batchops.adapters.aws_errors import aws_errors
from batchops.adapters.dynamo_codec import from_item, parse_time, to_attr, to_item, update_if
from batchops.adapters.dynamo_keys import (
    BATCH_WRITE_SIZE,
    META,
    batch_pk,
    chunk_records,
    meta_key,
    query_all,
    recorded_in_chunk,
    results_pk,
    write_batched,
)
from batchops.domain.chunks import Concurrency
from batchops.domain.errors import FieldProblem, InvalidRequestError
from batchops.domain.models import (
    Batch,
    BatchFilter,
    BatchOptions,
    BatchPage,
    BatchStatus,
    Counts,
    ErrorInfo,
    ItemSource,
    ManifestFormat,
    Plan,
    StopReason,
)

OPEN_STATUSES = {
    f":{status.value}": to_attr(status.value)
    for status in (BatchStatus.PENDING, BatchStatus.SCHEDULED, BatchStatus.PROCESSING)
}
_OWNER_INDEX = "byOwner"


def source_record(source: ItemSource) -> dict[str, Any]:
    return {
        "key": source.key,
        "format": source.format.value,
        "uploadId": source.upload_id,
        "columns": list(source.columns) if source.columns is not None else None,
        "secretsApart": source.secrets_apart or None,
    }


def to_source(r: dict[str, Any]) -> ItemSource:
    columns = r.get("columns")
    return ItemSource(
        r["key"],
        ManifestFormat(r["format"]),
        r.get("uploadId"),
        tuple(columns) if columns else None,
        bool(r.get("secretsApart")),
    )


def to_plan(r: dict[str, Any] | None) -> Plan | None:
    if not r:
        return None
    return Plan(Concurrency(r["threads"], r["parallelChunks"], r["chunkSize"]), r["chunkCount"])


_CURSOR_KEYS = {"pk", "sk", "gsi1pk", "gsi1sk"}


def error_record(error: ErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    details = [asdict(d) for d in error.details]
    return {"code": error.code, "message": error.message, **({"details": details} if details else {})}


def _error(value: dict[str, Any] | None) -> ErrorInfo | None:
    if not value:
        return None
    details = tuple(FieldProblem(d["field"], d["message"]) for d in value.get("details", []))
    return ErrorInfo(value["code"], value["message"], details)


_CURSOR_SORT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#(?P<batch_id>[\w-]{1,64})$")


def _is_cursor_of(cursor: dict[str, str], owner: str) -> bool:
    """A cursor this adapter issued to this owner (DynamoDB rejects malformed start keys with a 500-ish error)."""
    if set(cursor) != _CURSOR_KEYS or cursor["gsi1pk"] != _owner_key(owner):
        return False
    match = _CURSOR_SORT.match(cursor["gsi1sk"])
    return match is not None and cursor["pk"] == batch_pk(match["batch_id"]) and cursor["sk"] == META


# The counters of a batch record, with the values _count_values gives them.
_SET_COUNTS = (
    "succeededItems = :succeeded, failedItems = :failed, skippedItems = :skipped, "
    "cancelledItems = :cancelled, itemDurationMs = :duration"
)


def _count_values(counts: Counts) -> dict[str, int]:
    return {
        ":succeeded": counts.succeeded,
        ":failed": counts.failed,
        ":skipped": counts.skipped,
        ":cancelled": counts.cancelled,
        ":duration": counts.item_duration_ms,
    }


def _expired(record: dict[str, Any]) -> bool:
    expires_at = record.get("expiresAt")
    return expires_at is not None and expires_at <= time.time()


def _owner_key(owner: str) -> str:
    return f"OWNER#{owner}"


def _sort_time(value: datetime) -> str:
    # One fixed format in UTC, so that the text sorts as the time does.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _counts(r: dict[str, Any]) -> Counts:
    return Counts(
        succeeded=r.get("succeededItems", 0),
        failed=r.get("failedItems", 0),
        skipped=r.get("skippedItems", 0),
        cancelled=r.get("cancelledItems", 0),
        item_duration_ms=r.get("itemDurationMs", 0),
    )


class DynamoBatchRepository:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._db = client

    def create(self, batch: Batch) -> None:
        with aws_errors("storing a batch"):
            self._db.put_item(
                TableName=self._table,
                Item=to_item(self._batch_record(batch)),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def get(self, batch_id: str) -> Batch | None:
        with aws_errors("reading a batch"):
            reply = self._db.get_item(TableName=self._table, Key=meta_key(batch_id), ConsistentRead=True)
        if "Item" not in reply:
            return None
        record = from_item(reply["Item"])
        # DynamoDB deletes expired records up to two days late: past its expiry, a batch is gone.
        return None if _expired(record) else self.to_batch(record)

    def request_stop(self, batch_id: str, reason: StopReason) -> None:
        with aws_errors("stopping a batch"):
            self._db.update_item(
                TableName=self._table,
                Key=meta_key(batch_id),
                UpdateExpression="SET stopReason = if_not_exists(stopReason, :reason)",
                ExpressionAttributeValues={":reason": to_attr(reason.value)},
            )

    def expire(self, batch_id: str, at: datetime) -> None:
        expires_at = int(at.timestamp())  # DynamoDB TTL: epoch seconds
        # Chunks and results are final by now and nobody writes them again: rewriting them whole is safe and
        # takes one request per 25 records. A chunk with nothing recorded (never started) has no results to read.
        with aws_errors("setting the expiry of a batch"):
            requests: list[dict[str, Any]] = []
            for chunk in chunk_records(self._db, self._table, batch_id):
                record = from_item(chunk)
                results = []
                if recorded_in_chunk(record):
                    number = int(record["sk"].removeprefix("CHUNK#"))
                    results = list(query_all(self._db, self._table, results_pk(batch_id, number)))
                requests += (
                    {"PutRequest": {"Item": {**r, "expiresAt": to_attr(expires_at)}}} for r in [chunk, *results]
                )
                if len(requests) >= BATCH_WRITE_SIZE:
                    whole = len(requests) - len(requests) % BATCH_WRITE_SIZE
                    write_batched(self._db, self._table, requests[:whole])
                    requests = requests[whole:]
            write_batched(self._db, self._table, requests)
            self._db.update_item(
                TableName=self._table,
                Key=meta_key(batch_id),
                UpdateExpression="SET expiresAt = :at",
                ExpressionAttributeValues={":at": to_attr(expires_at)},
            )

    def set_counts(self, batch_id: str, counts: Counts) -> None:
        with aws_errors("correcting the counts of a batch"):
            self._db.update_item(
                TableName=self._table,
                Key=meta_key(batch_id),
                UpdateExpression=f"SET {_SET_COUNTS}",
                ExpressionAttributeValues={k: to_attr(v) for k, v in _count_values(counts).items()},
            )

    def mark_published(self, batch_id: str) -> None:
        self._set_flag(batch_id, "published")

    def mark_notified(self, batch_id: str) -> None:
        self._set_flag(batch_id, "notified")

    def _set_flag(self, batch_id: str, name: str) -> None:
        with aws_errors(f"marking a batch {name}"):
            self._db.update_item(
                TableName=self._table,
                Key=meta_key(batch_id),
                UpdateExpression="SET #flag = :yes",
                ExpressionAttributeNames={"#flag": name},
                ExpressionAttributeValues={":yes": to_attr(True)},
            )

    def list_batches(self, owner: str, filters: BatchFilter, limit: int, cursor: dict[str, str] | None) -> BatchPage:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": _OWNER_INDEX,
            "KeyConditionExpression": "gsi1pk = :owner",
            "ExpressionAttributeValues": {":owner": to_attr(_owner_key(owner))},
            "ScanIndexForward": False,  # newest first: the sort key starts with the creation time
            # Filters apply after the read: read more per page so that a rare filter takes few queries.
            "Limit": limit if not (filters.status or filters.operation) else max(limit, 200),
        }
        # Expired records linger until DynamoDB deletes them: leave them out.
        conditions, names = ["(attribute_not_exists(expiresAt) OR expiresAt > :now)"], {}
        query["ExpressionAttributeValues"][":now"] = to_attr(int(time.time()))
        if filters.status is not None:
            conditions.append("#status = :status")
            names["#status"] = "status"
            query["ExpressionAttributeValues"][":status"] = to_attr(filters.status.value)
        if filters.operation is not None:
            conditions.append("#operation = :operation")
            names["#operation"] = "operation"
            query["ExpressionAttributeValues"][":operation"] = to_attr(filters.operation)
        query["FilterExpression"] = " AND ".join(conditions)
        if names:
            query["ExpressionAttributeNames"] = names
        if cursor:
            if not _is_cursor_of(cursor, owner):
                raise InvalidRequestError([FieldProblem("nextToken", "not a token this API returned for this request")])
            query["ExclusiveStartKey"] = {k: to_attr(v) for k, v in cursor.items()}
        found: list[Batch] = []
        while True:
            with aws_errors("listing batches"):
                reply = self._db.query(**query)
            for record in reply.get("Items", []):
                found.append(self.to_batch(from_item(record)))
                if len(found) == limit:
                    last = from_item(record)
                    return BatchPage(found, {k: last[k] for k in _CURSOR_KEYS})
            if "LastEvaluatedKey" not in reply:
                return BatchPage(found, None)
            query["ExclusiveStartKey"] = reply["LastEvaluatedKey"]

    def mark_retried(self, batch_id: str, retry_batch_id: str) -> bool:
        return self._update_if(
            "marking a batch retried",
            Key=meta_key(batch_id),
            UpdateExpression="SET retriedBy = :retry",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(retriedBy)",
            ExpressionAttributeValues={":retry": to_attr(retry_batch_id)},
        )

    def unmark_retried(self, batch_id: str, retry_batch_id: str) -> None:
        self._update_if(
            "unmarking a batch retried",
            Key=meta_key(batch_id),
            UpdateExpression="REMOVE retriedBy",
            ConditionExpression="retriedBy = :retry",
            ExpressionAttributeValues={":retry": to_attr(retry_batch_id)},
        )

    def finalize(self, batch: Batch) -> bool:
        return self._close(
            batch.batch_id,
            f"SET #status = :status, #error = :error, completedAt = :now, {_SET_COUNTS}",
            {
                ":status": batch.status.value,
                ":error": error_record(batch.error),
                ":now": batch.completed_at,
                **_count_values(batch.counts),
            },
        )

    def _close(self, batch_id: str, update: str, values: dict[str, Any]) -> bool:
        """Apply a final update unless the batch is already final; False when it was."""
        return self._update_if(
            "finishing a batch",
            Key=meta_key(batch_id),
            UpdateExpression=update,
            ConditionExpression="#status IN (:pending, :scheduled, :processing)",
            ExpressionAttributeNames={"#status": "status", "#error": "error"},
            ExpressionAttributeValues={**{k: to_attr(v) for k, v in values.items()}, **OPEN_STATUSES},
        )

    def _update_if(self, action: str, **update: Any) -> bool:
        return update_if(self._db, self._table, action, **update)

    @staticmethod
    def _batch_record(batch: Batch) -> dict[str, Any]:
        return {
            "pk": batch_pk(batch.batch_id),
            "sk": META,
            "gsi1pk": _owner_key(batch.owner),
            "gsi1sk": f"{_sort_time(batch.created_at)}#{batch.batch_id}",
            "batchId": batch.batch_id,
            "owner": batch.owner,
            "operation": batch.operation,
            "status": batch.status.value,
            "totalItems": batch.total_items,
            "params": batch.params,
            "options": {
                "maxConcurrency": batch.options.max_concurrency,
                "continueOnError": batch.options.continue_on_error,
                "failureThresholdPercent": batch.options.failure_threshold_percent,
                "scheduledFor": batch.options.scheduled_for,
                "callbackUrl": batch.options.callback_url,
                "chunkSize": batch.options.chunk_size,
            },
            "source": source_record(batch.source),
            "createdAt": batch.created_at,
            "succeededItems": 0,
            "failedItems": 0,
            "skippedItems": 0,
            "cancelledItems": 0,
            "itemDurationMs": 0,
            "parentBatchId": batch.parent_batch_id,
            "executionArn": batch.execution_arn,
            "sourceIp": batch.source_ip,
            "userAgent": batch.user_agent,
        }

    @staticmethod
    def to_batch(r: dict[str, Any]) -> Batch:
        """The batch a record of the table holds (also read by the local stack's status-change lines)."""
        options = r.get("options", {})
        stop_reason = r.get("stopReason")
        return Batch(
            batch_id=r["batchId"],
            owner=r["owner"],
            operation=r["operation"],
            status=BatchStatus(r["status"]),
            total_items=r.get("totalItems"),
            params=r.get("params", {}),
            options=BatchOptions(
                max_concurrency=options.get("maxConcurrency", 10),
                continue_on_error=options.get("continueOnError", True),
                failure_threshold_percent=options.get("failureThresholdPercent"),
                scheduled_for=parse_time(options.get("scheduledFor")),
                callback_url=options.get("callbackUrl"),
                chunk_size=options.get("chunkSize", 100),
            ),
            source=to_source(r["source"]),
            plan=to_plan(r.get("plan")),
            created_at=datetime.fromisoformat(r["createdAt"]),
            counts=_counts(r),
            started_at=parse_time(r.get("startedAt")),
            completed_at=parse_time(r.get("completedAt")),
            execution_arn=r.get("executionArn"),
            error=_error(r.get("error")),
            stop_reason=StopReason(stop_reason) if stop_reason else None,
            parent_batch_id=r.get("parentBatchId"),
            retried_by=r.get("retriedBy"),
            source_ip=r.get("sourceIp"),
            user_agent=r.get("userAgent"),
            published=bool(r.get("published")),
            notified=bool(r.get("notified")),
        )
