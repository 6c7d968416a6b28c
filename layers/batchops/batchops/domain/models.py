"""Typed domain models of batches and their items."""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from batchops.domain.chunks import Concurrency
from batchops.domain.errors import FieldProblem


class BatchStatus(StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset({BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED})


class ItemStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


# Why no new item may start. The first reason given wins.
class StopReason(StrEnum):
    STOPPED_ON_ERROR = "stopped_on_error"
    FAILURE_THRESHOLD_EXCEEDED = "failure_threshold_exceeded"
    CANCELLED = "cancelled"
    INVALID_MANIFEST = "invalid_manifest"


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    # What exactly is wrong, where the error has parts (an invalid manifest's lines).
    details: tuple[FieldProblem, ...] = ()


@dataclass(frozen=True)
class BatchOptions:
    # Items in flight at once, across all chunks.
    max_concurrency: int = 10
    # At most this many items per invocation of the chunk processor.
    chunk_size: int = 100
    continue_on_error: bool = True
    # Stop once at least 10 items (or all) are processed and the failed share exceeds this percent.
    failure_threshold_percent: float | None = None
    scheduled_for: datetime | None = None
    callback_url: str | None = None

    def for_retry(self) -> "BatchOptions":
        """A retry runs now, with everything else as it was."""
        return replace(self, scheduled_for=None)


@dataclass(frozen=True)
class Counts:
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    item_duration_ms: int = 0

    @property
    def processed(self) -> int:
        return self.succeeded + self.failed

    def exceeds(self, threshold_percent: float, total: int) -> bool:
        """The failed share of processed items is over the threshold, once enough items tell."""
        processed = self.processed
        return processed >= min(10, total) and processed > 0 and 100.0 * self.failed / processed > threshold_percent


class ManifestFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


@dataclass(frozen=True)
class ItemSource:
    """Where a batch's items are: a manifest object, one item per line."""

    key: str
    format: ManifestFormat
    upload_id: str | None = None
    # CSV with object items: the header row's names, once the manifest is prepared.
    columns: tuple[str, ...] | None = None
    # Items with secret fields (a password): once prepared, the manifest holds each item's public view
    # ({"itemId", "input"} per line, JSON Lines) and the secrets wait in one sidecar per chunk, deleted once
    # the batch is final.
    secrets_apart: bool = False


@dataclass(frozen=True)
class Plan:
    """How a prepared batch runs: its chunks and how many of them run at once."""

    concurrency: Concurrency
    chunk_count: int

    def chunk_of(self, index: int) -> int:
        return index // self.concurrency.chunk_size


@dataclass(frozen=True)
class Batch:
    batch_id: str
    owner: str
    operation: str
    status: BatchStatus
    # None until an uploaded manifest is counted (when the batch is prepared).
    total_items: int | None
    params: dict[str, Any]
    options: BatchOptions
    created_at: datetime
    source: ItemSource
    counts: Counts = Counts()
    started_at: datetime | None = None
    completed_at: datetime | None = None
    execution_arn: str | None = None
    error: ErrorInfo | None = None
    # Why no new item may start; set by the first item (or cancel) that trips it.
    stop_reason: StopReason | None = None
    parent_batch_id: str | None = None
    retried_by: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    # Once final: whether its reports, expiry and event are out, and its callback delivered.
    published: bool = False
    notified: bool = False
    # How the items were cut into chunks, once prepared.
    plan: "Plan | None" = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def progress_percent(self) -> float:
        if self.total_items is None:
            return 0.0
        done = self.counts.processed + self.counts.skipped + self.counts.cancelled
        return round(100.0 * done / self.total_items, 1) if self.total_items else 100.0

    @property
    def success_rate(self) -> float | None:
        """Percent of processed items that succeeded; None until an item is processed."""
        processed = self.counts.processed
        return round(100.0 * self.counts.succeeded / processed, 1) if processed else None

    @property
    def avg_item_duration_ms(self) -> float | None:
        processed = self.counts.processed
        return round(self.counts.item_duration_ms / processed, 1) if processed else None

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return max(0, round((self.completed_at - self.started_at).total_seconds() * 1000))


@dataclass(frozen=True)
class ItemRef:
    """One entry of a batch request: the id the client knows it by (None for items that are only a body), and
    its body for operations that carry one."""

    item_id: str | None
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class ItemOutcome:
    """What applying an operation to one item produced."""

    status: ItemStatus
    message: str
    error: ErrorInfo | None = None
    warnings: tuple[ErrorInfo, ...] = ()
    output: dict[str, Any] | None = None

    @classmethod
    def succeeded(
        cls, message: str, output: dict[str, Any] | None = None, warnings: tuple[ErrorInfo, ...] = ()
    ) -> "ItemOutcome":
        return cls(ItemStatus.SUCCEEDED, message, None, warnings, output)

    @classmethod
    def failed(cls, code: str, message: str) -> "ItemOutcome":
        return cls(ItemStatus.FAILED, message, ErrorInfo(code, message))


@dataclass(frozen=True)
class BatchItem:
    batch_id: str
    index: int
    ref: ItemRef
    status: ItemStatus = ItemStatus.PENDING
    outcome: ItemOutcome | None = None
    duration_ms: int | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class Page:
    items: list[BatchItem]
    next_index: int | None = None


@dataclass(frozen=True)
class BatchFilter:
    status: BatchStatus | None = None
    operation: str | None = None


@dataclass(frozen=True)
class BatchPage:
    batches: list[Batch]
    # Opaque to the domain: where the next page starts, as the repository understands it.
    cursor: dict[str, str] | None = None
