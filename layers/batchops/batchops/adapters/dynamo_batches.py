"""BatchRepository over one DynamoDB table: a batch record and one record per item, in one partition."""

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from batchops.adapters.aws_errors import aws_errors
from batchops.adapters.dynamo_codec import from_item, is_condition_failure, parse_time, to_attr, to_item, update_if
from batchops.domain.errors import BatchOpsError, FieldProblem, InvalidRequestError, StoreUnavailableError
from batchops.domain.models import (
    Batch,
    BatchFilter,
    BatchItem,
    BatchOptions,
    BatchPage,
    BatchStatus,
    Counts,
    ErrorInfo,
    ItemOutcome,
    ItemRef,
    ItemStatus,
    Page,
    StopReason,
)

_META = "META"
_COUNTER_OF = {
    ItemStatus.SUCCEEDED: "succeededItems",
    ItemStatus.FAILED: "failedItems",
    ItemStatus.SKIPPED: "skippedItems",
    ItemStatus.CANCELLED: "cancelledItems",
}
_OPEN = {
    f":{status.value}": to_attr(status.value)
    for status in (BatchStatus.PENDING, BatchStatus.SCHEDULED, BatchStatus.PROCESSING)
}
_OWNER_INDEX = "byOwner"
_CURSOR_KEYS = {"pk", "sk", "gsi1pk", "gsi1sk"}
_BATCH_WRITE_SIZE = 25
_UNPROCESSED_ATTEMPTS = 6


def _pk(batch_id: str) -> str:
    return f"BATCH#{batch_id}"


def _item_sk(index: int) -> str:
    # Zero-padded so the sort key orders items by index (a batch holds at most 1,000 items).
    return f"ITEM#{index:06d}"


def _key(batch_id: str, sk: str) -> dict[str, Any]:
    return {"pk": to_attr(_pk(batch_id)), "sk": to_attr(sk)}


def _error_dict(error: ErrorInfo | None) -> dict[str, str] | None:
    return asdict(error) if error else None


def _error(value: dict[str, Any] | None) -> ErrorInfo | None:
    return ErrorInfo(value["code"], value["message"]) if value else None


def _outcome_fields(item: BatchItem) -> dict[str, Any]:
    outcome = item.outcome or ItemOutcome(item.status, "")
    return {
        "status": item.status.value,
        "message": outcome.message,
        "error": _error_dict(outcome.error),
        "warnings": [asdict(w) for w in outcome.warnings],
        "output": outcome.output,
        "durationMs": item.duration_ms or 0,
        "finishedAt": item.finished_at,
    }


_CURSOR_SORT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#(?P<batch_id>[\w-]{1,64})$")


def _is_cursor_of(cursor: dict[str, str], owner: str) -> bool:
    """A cursor this adapter issued to this owner (DynamoDB rejects malformed start keys with a 500-ish error)."""
    if set(cursor) != _CURSOR_KEYS or cursor["gsi1pk"] != _owner_key(owner):
        return False
    match = _CURSOR_SORT.match(cursor["gsi1sk"])
    return match is not None and cursor["pk"] == _pk(match["batch_id"]) and cursor["sk"] == _META


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
    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._db = client or boto3.client("dynamodb")

    def create(self, batch: Batch, items: list[BatchItem]) -> None:
        requests = [{"PutRequest": {"Item": to_item(self._item_record(item))}} for item in items]
        try:
            with aws_errors("storing a batch"):
                self._write_batched(requests)
                self._db.put_item(
                    TableName=self._table,
                    Item=to_item(self._batch_record(batch)),
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except BatchOpsError:
            # Items without their batch record are invisible but never expire: take back what was written.
            deletes = [{"DeleteRequest": {"Key": _key(i.batch_id, _item_sk(i.index))}} for i in items]
            with contextlib.suppress(BatchOpsError), aws_errors("discarding a batch that was not created"):
                self._write_batched(deletes)
            raise

    def get(self, batch_id: str) -> Batch | None:
        with aws_errors("reading a batch"):
            reply = self._db.get_item(TableName=self._table, Key=_key(batch_id, _META), ConsistentRead=True)
        if "Item" not in reply:
            return None
        record = from_item(reply["Item"])
        # DynamoDB deletes expired records up to two days late: past its expiry, a batch is gone.
        return None if _expired(record) else self._to_batch(record)

    def get_with_item(self, batch_id: str, index: int) -> tuple[Batch, BatchItem] | None:
        keys = [_key(batch_id, _META), _key(batch_id, _item_sk(index))]
        with aws_errors("reading a batch item"):
            reply = self._db.batch_get_item(RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}})
        if reply.get("UnprocessedKeys"):
            raise StoreUnavailableError("reading a batch item was throttled")
        records = {r["sk"]: r for r in map(from_item, reply["Responses"].get(self._table, []))}
        if _META not in records or _item_sk(index) not in records:
            return None
        return self._to_batch(records[_META]), self._to_item(records[_item_sk(index)])

    def list_items(self, batch_id: str, status: ItemStatus | None, limit: int, after_index: int | None) -> Page:
        found: list[BatchItem] = []
        more = False
        for item, has_more in self._query_items(batch_id, status, after_index, page_size=limit):
            if len(found) == limit:
                more = True
                break
            found.append(item)
            more = has_more
        return Page(found, found[-1].index if more and found else None)

    def all_items(self, batch_id: str) -> list[BatchItem]:
        return [item for item, _ in self._query_items(batch_id, None, None, page_size=1000)]

    def request_stop(self, batch_id: str, reason: StopReason) -> None:
        with aws_errors("stopping a batch"):
            self._db.update_item(
                TableName=self._table,
                Key=_key(batch_id, _META),
                UpdateExpression="SET stopReason = if_not_exists(stopReason, :reason)",
                ExpressionAttributeValues={":reason": to_attr(reason.value)},
            )

    def record_outcome(self, item: BatchItem) -> bool:
        fields = _outcome_fields(item)
        return self._update_if(
            "recording an item result",
            Key=_key(item.batch_id, _item_sk(item.index)),
            UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields),
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={f"#{name}": name for name in fields},
            ExpressionAttributeValues={
                **{f":{name}": to_attr(value) for name, value in fields.items()},
                ":pending": to_attr(ItemStatus.PENDING.value),
            },
        )

    def expire(self, batch_id: str, items: list[BatchItem], at: datetime) -> None:
        expires_at = int(at.timestamp())  # DynamoDB TTL: epoch seconds
        # Items are final by now and nobody writes them again: rewriting them whole is safe and takes
        # one request per 25 items instead of one per item.
        requests = [
            {"PutRequest": {"Item": to_item({**self._item_record(i), **_outcome_fields(i), "expiresAt": expires_at})}}
            for i in items
        ]
        with aws_errors("setting the expiry of a batch"):
            self._write_batched(requests)
            self._db.update_item(
                TableName=self._table,
                Key=_key(batch_id, _META),
                UpdateExpression="SET expiresAt = :at",
                ExpressionAttributeValues={":at": to_attr(expires_at)},
            )

    def set_counts(self, batch_id: str, counts: Counts) -> None:
        with aws_errors("correcting the counts of a batch"):
            self._db.update_item(
                TableName=self._table,
                Key=_key(batch_id, _META),
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
                Key=_key(batch_id, _META),
                UpdateExpression="SET #flag = :yes",
                ExpressionAttributeNames={"#flag": name},
                ExpressionAttributeValues={":yes": to_attr(True)},
            )

    def add_to_counts(self, batch_id: str, status: ItemStatus, duration_ms: int) -> Counts:
        with aws_errors("counting an item"):
            try:
                reply = self._db.update_item(
                    TableName=self._table,
                    Key=_key(batch_id, _META),
                    UpdateExpression=f"ADD {_COUNTER_OF[status]} :one, itemDurationMs :duration",
                    # A late item of a batch the aggregator already closed must not move its final counts.
                    ConditionExpression="#status IN (:pending, :scheduled, :processing)",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={":one": to_attr(1), ":duration": to_attr(duration_ms), **_OPEN},
                    ReturnValues="ALL_NEW",
                )
            except ClientError as e:
                if not is_condition_failure(e):
                    raise
                batch = self.get(batch_id)
                return batch.counts if batch else Counts()
        return _counts(from_item(reply["Attributes"]))

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
                found.append(self._to_batch(from_item(record)))
                if len(found) == limit:
                    last = from_item(record)
                    return BatchPage(found, {k: last[k] for k in _CURSOR_KEYS})
            if "LastEvaluatedKey" not in reply:
                return BatchPage(found, None)
            query["ExclusiveStartKey"] = reply["LastEvaluatedKey"]

    def mark_retried(self, batch_id: str, retry_batch_id: str) -> bool:
        return self._update_if(
            "marking a batch retried",
            Key=_key(batch_id, _META),
            UpdateExpression="SET retriedBy = :retry",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(retriedBy)",
            ExpressionAttributeValues={":retry": to_attr(retry_batch_id)},
        )

    def unmark_retried(self, batch_id: str, retry_batch_id: str) -> None:
        self._update_if(
            "unmarking a batch retried",
            Key=_key(batch_id, _META),
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
                ":error": _error_dict(batch.error),
                ":now": batch.completed_at,
                **_count_values(batch.counts),
            },
        )

    def _close(self, batch_id: str, update: str, values: dict[str, Any]) -> bool:
        """Apply a final update unless the batch is already final; False when it was."""
        return self._update_if(
            "finishing a batch",
            Key=_key(batch_id, _META),
            UpdateExpression=update,
            ConditionExpression="#status IN (:pending, :scheduled, :processing)",
            ExpressionAttributeNames={"#status": "status", "#error": "error"},
            ExpressionAttributeValues={**{k: to_attr(v) for k, v in values.items()}, **_OPEN},
        )

    def _update_if(self, action: str, **update: Any) -> bool:
        return update_if(self._db, self._table, action, **update)

    def _write_batched(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), _BATCH_WRITE_SIZE):
            self._write_all(requests[start : start + _BATCH_WRITE_SIZE])

    def _write_all(self, requests: list[dict[str, Any]]) -> None:
        pending = {self._table: requests}
        for attempt in range(_UNPROCESSED_ATTEMPTS):
            pending = self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                return
            # DynamoDB's documented answer to unprocessed items is to resend them after a back-off.
            time.sleep(0.05 * 2**attempt)
        raise StoreUnavailableError("storing batch items was throttled")

    def _query_items(
        self, batch_id: str, status: ItemStatus | None, after_index: int | None, page_size: int
    ) -> Iterator[tuple[BatchItem, bool]]:
        """Items in index order, each with whether the table may hold more after it."""
        start = _item_sk(after_index + 1) if after_index is not None else _item_sk(0)
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
            "ExpressionAttributeValues": {
                ":pk": to_attr(_pk(batch_id)),
                ":start": to_attr(start),
                ":end": to_attr("ITEM#999999"),
            },
            "ConsistentRead": True,
            "Limit": page_size,
        }
        if status is not None:
            query["FilterExpression"] = "#status = :status"
            query["ExpressionAttributeNames"] = {"#status": "status"}
            query["ExpressionAttributeValues"][":status"] = to_attr(status.value)
        while True:
            with aws_errors("listing batch items"):
                reply = self._db.query(**query)
            records = reply.get("Items", [])
            last_key = reply.get("LastEvaluatedKey")
            for n, record in enumerate(records):
                yield self._to_item(from_item(record)), bool(last_key) or n < len(records) - 1
            if not last_key:
                return
            query["ExclusiveStartKey"] = last_key

    @staticmethod
    def _batch_record(batch: Batch) -> dict[str, Any]:
        return {
            "pk": _pk(batch.batch_id),
            "sk": _META,
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
            },
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
    def _item_record(item: BatchItem) -> dict[str, Any]:
        return {
            "pk": _pk(item.batch_id),
            "sk": _item_sk(item.index),
            "index": item.index,
            "itemId": item.ref.item_id,
            "body": item.ref.body,
            "status": item.status.value,
        }

    @staticmethod
    def _to_batch(r: dict[str, Any]) -> Batch:
        options = r.get("options", {})
        stop_reason = r.get("stopReason")
        return Batch(
            batch_id=r["batchId"],
            owner=r["owner"],
            operation=r["operation"],
            status=BatchStatus(r["status"]),
            total_items=r["totalItems"],
            params=r.get("params", {}),
            options=BatchOptions(
                max_concurrency=options.get("maxConcurrency", 10),
                continue_on_error=options.get("continueOnError", True),
                failure_threshold_percent=options.get("failureThresholdPercent"),
                scheduled_for=parse_time(options.get("scheduledFor")),
                callback_url=options.get("callbackUrl"),
            ),
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

    @staticmethod
    def _to_item(r: dict[str, Any]) -> BatchItem:
        status = ItemStatus(r["status"])
        outcome = None
        if status is not ItemStatus.PENDING:
            outcome = ItemOutcome(
                status=status,
                message=r.get("message", ""),
                error=_error(r.get("error")),
                warnings=tuple(ErrorInfo(w["code"], w["message"]) for w in r.get("warnings", [])),
                output=r.get("output"),
            )
        return BatchItem(
            batch_id=r["pk"].removeprefix("BATCH#"),
            index=r["index"],
            ref=ItemRef(r["itemId"], r.get("body")),
            status=status,
            outcome=outcome,
            duration_ms=r.get("durationMs"),
            finished_at=parse_time(r.get("finishedAt")),
        )
