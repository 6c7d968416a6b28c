"""Ports: what the domain needs from the outside world, as Protocols the adapters implement."""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from batchops.domain.chunks import Chunk, ChunkState, Lease
from batchops.domain.models import (
    Batch,
    BatchFilter,
    BatchItem,
    BatchPage,
    Counts,
    ErrorInfo,
    ItemOutcome,
    ItemRef,
    ItemSource,
    ManifestFormat,
    Plan,
    StopReason,
)
from batchops.domain.reports import ReportFormat, ReportKey, ReportScope


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic_ms(self) -> float: ...

    def sleep_ms(self, ms: float) -> None: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


class BatchRepository(Protocol):
    def create(self, batch: Batch) -> None:
        """Store a new batch record (its items are in its manifest)."""

    def get(self, batch_id: str) -> Batch | None: ...

    def request_stop(self, batch_id: str, reason: StopReason) -> None:
        """Ask that no new item starts; the first reason given wins."""

    def list_batches(self, owner: str, filters: BatchFilter, limit: int, cursor: dict[str, str] | None) -> BatchPage:
        """An owner's batches, newest first."""

    def mark_retried(self, batch_id: str, retry_batch_id: str) -> bool:
        """Record that a batch was retried; False when it already was."""

    def unmark_retried(self, batch_id: str, retry_batch_id: str) -> None:
        """Undo mark_retried when the retry batch could not be created."""

    def finalize(self, batch: Batch) -> bool:
        """Write final status, counts and timings unless the batch is already final. False if it was."""

    def expire(self, batch_id: str, at: datetime) -> None:
        """Let the batch record, its chunks and their results expire (DynamoDB TTL) at a time."""

    def set_counts(self, batch_id: str, counts: Counts) -> None:
        """Correct the counts of a final batch (one another path ended without them)."""

    def mark_published(self, batch_id: str) -> None: ...

    def mark_notified(self, batch_id: str) -> None: ...


class ChunkReader(Protocol):
    """A prepared batch's chunks and the results recorded in them."""

    def chunks(self, batch_id: str, first_number: int, limit: int) -> list[ChunkState]:
        """Chunk records in order, from `first_number`."""

    def results(self, batch_id: str, number: int) -> list[BatchItem]:
        """The items of a chunk recorded so far (finished), in no particular order."""


@dataclass(frozen=True)
class LiveState:
    """What a running chunk needs to know of its batch, read often: whether to stop, and the counts."""

    stop_reason: StopReason | None
    is_final: bool
    counts: Counts


class ChunkRepository(ChunkReader, Protocol):
    def get(self, batch_id: str) -> Batch | None: ...

    def live_state(self, batch_id: str) -> LiveState | None: ...

    def request_stop(self, batch_id: str, reason: StopReason) -> None: ...

    def plan(self, batch_id: str, plan: Plan, total_items: int, source: ItemSource, chunks: Sequence[Chunk]) -> None:
        """Store the chunks of a checked manifest and the batch's plan and item count."""

    def reject(self, batch_id: str, error: ErrorInfo) -> None:
        """A manifest that failed its check: no item may start, and the batch will fail with `error`."""

    def unfinished_chunks(self, batch_id: str) -> list[ChunkState]:
        """The chunks not done yet, with who holds them."""

    def claim_chunk(self, batch_id: str, number: int, lease: Lease) -> bool:
        """Take the chunk's lease; False while another invocation holds it."""

    def record_results(
        self, batch_id: str, number: int, lease: Lease, items: Sequence[BatchItem], done: bool, release: bool
    ) -> None:
        """Store finished items and add them to the chunk's and the batch's counts, all at once, under the
        lease (LeaseLostError if another invocation took it). `done` ends the chunk; `release` frees the lease."""


class ItemStore(Protocol):
    """Manifests: the items of batches, one per line, and the lists of chunks a run works through."""

    def put_items(self, batch_id: str, lines: Iterable[bytes]) -> ItemSource:
        """Store a batch's inline items as its JSON Lines manifest."""

    def adopt(self, batch_id: str, source: ItemSource) -> ItemSource:
        """The batch's own copy of an uploaded manifest (uploads expire; a batch's manifest lives with it)."""

    def lines(self, source: ItemSource, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The manifest's lines in bytes [start, end), each with its line end."""

    def put_chunk_list(self, batch_id: str, run: int, chunks: Sequence[Chunk]) -> str:
        """The chunks a round of the workflow runs (what its Map reads); returns where it is."""

    def put_public_manifest(self, batch_id: str, lines: Iterable[bytes]) -> ItemSource:
        """Store a batch's manifest with its secrets apart (public_line per item), streamed: any size."""

    def put_secrets(self, batch_id: str, chunk: int, values: Sequence[Mapping[str, Any]]) -> None:
        """Store the secret fields of a chunk's items, in item order: its sidecar."""

    def secrets(self, batch_id: str, chunk: int) -> list[dict[str, Any]]:
        """A chunk's sidecar; raises BatchStoppedError once it is deleted (only a final batch's are)."""

    def delete_manifest(self, source: ItemSource) -> None:
        """Delete a manifest object (a client's upload holding secrets, once they are set apart)."""

    def delete_secrets(self, batch_id: str) -> None:
        """Delete every sidecar of a batch; nothing happens if there are none."""


class HourlyLimits(Protocol):
    def take(self, owner: str, now: datetime, limit: int) -> bool:
        """Count one new batch in the owner's clock hour of `now`, atomically; False when it is full."""

    def give_back(self, owner: str, now: datetime) -> None:
        """Uncount a batch taken at `now` that was not created after all."""


class ReportStore(Protocol):
    def put_all(self, batch_id: str, pieces: Iterable[Mapping[ReportKey, bytes]]) -> None:
        """Write every report of a batch from pieces appended in order, never holding a whole report."""

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


class ItemDecoder(Protocol):
    def item_ref(self, operation: str, value: Any, from_text: bool = False) -> ItemRef:
        """One manifest entry as an item; raises InvalidRequestError naming what is wrong with it."""

    def fields_of_items(self, operation: str) -> tuple[str, ...] | None:
        """The fields of an operation's object items; None when its items are ids."""

    def secret_fields_of_items(self, operation: str) -> frozenset[str]:
        """The fields of an operation's items that are secrets (a password); empty for most operations."""


class OperationRunner(Protocol):
    def run(self, operation: str, task: ItemTask) -> ItemOutcome:
        """Apply an operation to one item. Business failures come back as a failed outcome."""


@dataclass(frozen=True)
class UploadTicket:
    """Where and how a client puts a manifest: a presigned PUT, valid until `expires_at`."""

    upload_id: str
    url: str
    headers: dict[str, str]
    expires_at: datetime
    max_bytes: int


class Uploads(Protocol):
    def create(self, owner: str, upload_id: str, fmt: ManifestFormat, now: datetime) -> UploadTicket: ...

    def claim(self, owner: str, upload_id: str, batch_id: str) -> ItemSource:
        """The owner's upload as a batch's source, once only. Raises UploadNotFoundError (unknown, another
        owner's, expired), UploadUsedError, InvalidRequestError (nothing uploaded yet, too large)."""

    def release(self, upload_id: str, batch_id: str) -> None:
        """Undo a claim when the batch could not be created."""
