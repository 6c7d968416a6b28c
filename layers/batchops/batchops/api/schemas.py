"""Request and response bodies of the HTTP API (camelCase JSON)."""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from batchops.domain.errors import FieldProblem, InvalidRequestError
from batchops.domain.manifests import MAX_ITEMS as MAX_MANIFEST_ITEMS
from batchops.domain.models import Batch, BatchItem, BatchOptions, ErrorInfo, ManifestFormat
from batchops.domain.ports import UploadTicket
from batchops.domain.times import iso
from batchops.operations.camel import CamelModel

# Inline items per request; more go through an upload (POST /uploads), up to manifests.MAX_ITEMS.
MAX_INLINE_ITEMS = 10_000


def _iso_datetime(value: Any) -> Any:
    """Only ISO 8601 text: pydantic would also read epoch numbers (and numeric strings) as times."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string with a time zone")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time string with a time zone") from None


class OptionsIn(CamelModel):
    # Items in flight at once, across the batch's chunks.
    max_concurrency: Annotated[int, Field(ge=1, le=1000, strict=True)] = 10
    # At most this many items per invocation of the chunk processor.
    chunk_size: Annotated[int, Field(ge=1, le=1000, strict=True)] = 100
    continue_on_error: Annotated[bool, Field(strict=True)] = True
    failure_threshold_percent: Annotated[float, Field(ge=0, le=100, strict=True)] | None = None
    # When to start (ISO 8601 with a zone); must be in the future and at most a year ahead.
    scheduled_for: Annotated[AwareDatetime, BeforeValidator(_iso_datetime)] | None = None
    # Where to POST the final status (https; http to loopback only where the stack allows it).
    callback_url: Annotated[str, Field(min_length=1, max_length=2048)] | None = None

    def to_domain(self) -> BatchOptions:
        return BatchOptions(
            max_concurrency=self.max_concurrency,
            chunk_size=self.chunk_size,
            continue_on_error=self.continue_on_error,
            failure_threshold_percent=self.failure_threshold_percent,
            scheduled_for=self.scheduled_for,
            callback_url=self.callback_url,
        )


class SourceIn(CamelModel):
    upload_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class UploadRequest(CamelModel):
    format: ManifestFormat


class UploadOut(CamelModel):
    upload_id: str
    url: str
    method: str
    headers: dict[str, str]
    expires_at: str
    max_bytes: int

    @classmethod
    def of(cls, t: UploadTicket) -> "UploadOut":
        return cls(
            upload_id=t.upload_id,
            url=t.url,
            method="PUT",
            headers=t.headers,
            expires_at=iso(t.expires_at) or "",
            max_bytes=t.max_bytes,
        )


class BatchRequest(CamelModel):
    # The description's example: also the valid request that contract tests (Schemathesis) start from.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"operation": "content.update-price", "items": ["c-1", "c-2"], "params": {"newPrice": 500}}]
        }
    )

    operation: Annotated[str, Field(min_length=1, max_length=100)]
    # Exactly one of `items` and `source`.
    items: Annotated[list[Any], Field(min_length=1, max_length=MAX_INLINE_ITEMS)] | None = None
    source: SourceIn | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    options: OptionsIn = Field(default_factory=OptionsIn)

    @model_validator(mode="after")
    def _items_or_source(self) -> "BatchRequest":
        if (self.items is None) == (self.source is None):
            raise PydanticCustomError("items_or_source", "give exactly one of items and source")
        return self


class DetailOut(CamelModel):
    field: str
    message: str


class ErrorOut(CamelModel):
    code: str
    message: str

    @classmethod
    def of(cls, error: ErrorInfo | None) -> "ErrorOut | None":
        return cls(code=error.code, message=error.message) if error else None


class BatchErrorOut(ErrorOut):
    # What exactly is wrong where the error has parts: an invalid manifest's lines (at most 100).
    details: list[DetailOut] | None = None

    @classmethod
    def of(cls, error: ErrorInfo | None) -> "BatchErrorOut | None":
        if error is None:
            return None
        details = [DetailOut(field=d.field, message=d.message) for d in error.details] or None
        return cls(code=error.code, message=error.message, details=details)


class OptionsOut(CamelModel):
    max_concurrency: int
    chunk_size: int
    continue_on_error: bool
    failure_threshold_percent: float | None
    scheduled_for: str | None
    callback_url: str | None

    @classmethod
    def of(cls, o: BatchOptions) -> "OptionsOut":
        return cls(
            max_concurrency=o.max_concurrency,
            chunk_size=o.chunk_size,
            continue_on_error=o.continue_on_error,
            failure_threshold_percent=o.failure_threshold_percent,
            scheduled_for=iso(o.scheduled_for),
            callback_url=o.callback_url,
        )


class BatchOut(CamelModel):
    batch_id: str
    operation: str
    status: str
    # null until an uploaded manifest is counted (when the batch is prepared).
    total_items: int | None
    source: dict[str, Any]
    processed_items: int
    succeeded_items: int
    failed_items: int
    skipped_items: int
    cancelled_items: int
    progress_percent: float
    success_rate: float | None
    params: dict[str, Any]
    options: OptionsOut
    created_at: str
    started_at: str | None
    completed_at: str | None
    duration_ms: int | None
    avg_item_duration_ms: float | None
    execution_arn: str | None
    error: BatchErrorOut | None
    parent_batch_id: str | None
    retried_by: str | None

    @classmethod
    def of(cls, b: Batch) -> "BatchOut":
        return cls(
            batch_id=b.batch_id,
            operation=b.operation,
            status=b.status.value,
            total_items=b.total_items,
            source={"uploadId": b.source.upload_id, "format": b.source.format.value},
            processed_items=b.counts.processed,
            succeeded_items=b.counts.succeeded,
            failed_items=b.counts.failed,
            skipped_items=b.counts.skipped,
            cancelled_items=b.counts.cancelled,
            progress_percent=b.progress_percent,
            success_rate=b.success_rate,
            params=b.params,
            options=OptionsOut.of(b.options),
            created_at=iso(b.created_at) or "",
            started_at=iso(b.started_at),
            completed_at=iso(b.completed_at),
            duration_ms=b.duration_ms,
            avg_item_duration_ms=b.avg_item_duration_ms,
            execution_arn=b.execution_arn,
            error=BatchErrorOut.of(b.error),
            parent_batch_id=b.parent_batch_id,
            retried_by=b.retried_by,
        )


class BatchesPageOut(CamelModel):
    batches: list[BatchOut]
    next_token: str | None


class ItemOut(CamelModel):
    index: int
    # null for items that are only a body (content.create).
    item_id: str | None
    # The item as the client sent it: its id, or its object without secret fields (a password).
    input: str | dict[str, Any] | None
    status: str
    message: str | None
    error: ErrorOut | None
    warnings: list[ErrorOut]
    output: dict[str, Any] | None
    duration_ms: int | None
    finished_at: str | None

    @classmethod
    def of(cls, item: BatchItem) -> "ItemOut":
        outcome = item.outcome
        return cls(
            index=item.index,
            item_id=item.ref.item_id,
            input=item.ref.item_id if item.ref.body is None else item.ref.body,
            status=item.status.value,
            message=outcome.message if outcome else None,
            error=ErrorOut.of(outcome.error) if outcome else None,
            warnings=[ErrorOut(code=w.code, message=w.message) for w in outcome.warnings] if outcome else [],
            output=outcome.output if outcome else None,
            duration_ms=item.duration_ms,
            finished_at=iso(item.finished_at),
        )


class ItemsPageOut(CamelModel):
    items: list[ItemOut]
    next_token: str | None


def _encode(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None


_NOT_OURS = InvalidRequestError([FieldProblem("nextToken", "not a token this API returned for this request")])


def encode_token(after_index: int | None) -> str | None:
    return None if after_index is None else _encode({"after": after_index})


def decode_token(token: str | None) -> int | None:
    if not token:
        return None
    value = _decode(token)
    after = value.get("after") if isinstance(value, dict) else None
    if isinstance(after, int) and not isinstance(after, bool) and 0 <= after < MAX_MANIFEST_ITEMS:
        return after
    raise _NOT_OURS


def encode_list_token(owner: str, cursor: dict[str, str] | None) -> str | None:
    # The owner rides along so that a token is only good for the caller it was issued to.
    return None if cursor is None else _encode({"owner": owner, "cursor": cursor})


def decode_list_token(owner: str, token: str | None) -> dict[str, str] | None:
    if not token:
        return None
    value = _decode(token)
    if isinstance(value, dict) and value.get("owner") == owner and isinstance(value.get("cursor"), dict):
        cursor: dict[str, str] = value["cursor"]
        if all(isinstance(k, str) and isinstance(v, str) for k, v in cursor.items()):
            return cursor
    raise _NOT_OURS


class WebhookSecretOut(CamelModel):
    # HMAC-SHA256 key of X-Batchops-Signature: t=<unix seconds>,v1=<hex HMAC(secret, "<t>.<raw body>")>.
    secret: str


class ReportLinkOut(CamelModel):
    # A presigned GET of the report (served as an attachment), valid for expires_in seconds.
    url: str
    expires_in: int
