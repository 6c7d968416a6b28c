"""Ports: what the domain needs from the outside world, as Protocols the adapters implement."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from batchops.domain.models import (
    Batch,
    BatchFilter,
    BatchItem,
    BatchPage,
    Counts,
    ItemOutcome,
    ItemRef,
    ItemStatus,
    Page,
    StopReason,
)
from batchops.domain.reports import ReportFormat, ReportScope


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic_ms(self) -> float: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


class BatchRepository(Protocol):
    def create(self, batch: Batch, items: list[BatchItem]) -> None:
        """Store the items first and the batch last, so a batch never exists without all its items."""

    def get(self, batch_id: str) -> Batch | None: ...

    def get_with_item(self, batch_id: str, index: int) -> tuple[Batch, BatchItem] | None: ...

    def list_items(self, batch_id: str, status: ItemStatus | None, limit: int, after_index: int | None) -> Page: ...

    def all_items(self, batch_id: str) -> list[BatchItem]: ...

    def request_stop(self, batch_id: str, reason: StopReason) -> None:
        """Ask that no new item starts; the first reason given wins."""

    def list_batches(self, owner: str, filters: BatchFilter, limit: int, cursor: dict[str, str] | None) -> BatchPage:
        """An owner's batches, newest first."""

    def mark_retried(self, batch_id: str, retry_batch_id: str) -> bool:
        """Record that a batch was retried; False when it already was."""

    def unmark_retried(self, batch_id: str, retry_batch_id: str) -> None:
        """Undo mark_retried when the retry batch could not be created."""

    def record_outcome(self, item: BatchItem) -> bool:
        """Store a finished item once. False when it was already finished (a retried invocation)."""

    def add_to_counts(self, batch_id: str, status: ItemStatus, duration_ms: int) -> Counts:
        """Count one finished item; returns the live counts after it."""

    def finalize(self, batch: Batch) -> bool:
        """Write final status, counts and timings unless the batch is already final. False if it was."""

    def expire(self, batch_id: str, items: list[BatchItem], at: datetime) -> None:
        """Let the batch and its items expire (DynamoDB TTL) at a time."""

    def set_counts(self, batch_id: str, counts: Counts) -> None:
        """Correct the counts of a final batch (one another path ended without them)."""

    def mark_published(self, batch_id: str) -> None: ...

    def mark_notified(self, batch_id: str) -> None: ...


class HourlyLimits(Protocol):
    def take(self, owner: str, now: datetime, limit: int) -> bool:
        """Count one new batch in the owner's clock hour of `now`, atomically; False when it is full."""

    def give_back(self, owner: str, now: datetime) -> None:
        """Uncount a batch taken at `now` that was not created after all."""


class ReportStore(Protocol):
    def put(self, batch_id: str, scope: ReportScope, fmt: ReportFormat, body: bytes) -> None: ...

    def link(self, batch_id: str, scope: ReportScope, fmt: ReportFormat, expires_in_seconds: int) -> str:
        """A time-limited URL to download a report."""


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None: ...


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Deliver a body; raises WebhookDeliveryError unless the receiver answered 2xx."""


class WorkflowStarter(Protocol):
    def start(self, batch: Batch) -> None:
        """Start the batch's execution, named by its id. Raises WorkflowStartError."""

    def execution_arn(self, batch_id: str) -> str:
        """The ARN the batch's execution has (or will have) in the console."""

    def stop(self, batch_id: str, reason: str) -> None:
        """Stop a batch's execution that runs no item yet (a scheduled batch waiting for its time)."""


@dataclass(frozen=True)
class ItemTask:
    """Everything an operation may know about the item it is applied to."""

    batch_id: str
    owner: str
    index: int
    ref: ItemRef
    params: Mapping[str, Any]
    now: datetime


@dataclass(frozen=True)
class ValidatedRequest:
    params: dict[str, Any]
    items: list[ItemRef]


class RequestValidator(Protocol):
    def validate(self, operation: str, params: Mapping[str, Any], items: Sequence[Any]) -> ValidatedRequest:
        """Check an operation's params and items; raises InvalidRequestError naming each bad field."""


class OperationRunner(Protocol):
    def run(self, operation: str, task: ItemTask) -> ItemOutcome:
        """Apply an operation to one item. Business failures come back as a failed outcome."""
