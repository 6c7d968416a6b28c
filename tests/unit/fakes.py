"""In-memory implementations of the ports, for testing the domain without AWS."""

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from batchops.content.models import Change, ChangeReplayedError, Content, ContentExistsError
from batchops.domain.chunks import Chunk, ChunkState, Lease
from batchops.domain.errors import (
    BatchStoppedError,
    ContentNotFoundError,
    ContentRemovedError,
    ContractSyncError,
    LeaseLostError,
    UploadNotFoundError,
    UploadUsedError,
    WorkflowStartError,
)
from batchops.domain.models import (
    Batch,
    BatchFilter,
    BatchItem,
    BatchPage,
    Counts,
    ErrorInfo,
    ItemSource,
    ItemStatus,
    ManifestFormat,
    Plan,
    StopReason,
)
from batchops.domain.ports import LiveState, UploadTicket
from batchops.domain.reports import ReportFormat, ReportKey, ReportScope


class FakeClock:
    def __init__(self) -> None:
        self._now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
        self._ms = 0.0
        self.slept_ms = 0.0
        # How far monotonic time moves at each reading.
        self.tick_ms = 7.0

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=5)
        return self._now

    def advance(self, by: timedelta) -> None:
        self._now += by

    def sleep_ms(self, ms: float) -> None:
        self.slept_ms += ms
        self._ms += ms
        self._now += timedelta(milliseconds=ms)

    def monotonic_ms(self) -> float:
        self._ms += self.tick_ms
        return self._ms


class SequentialIds:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self) -> str:
        return f"id-{next(self._n)}"


class FakeWorkflow:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.started: list[str] = []
        self.stopped: list[str] = []

    def start(self, batch: Batch) -> None:
        if self.fail:
            raise WorkflowStartError("no state machine")
        self.started.append(batch.batch_id)

    def execution_arn(self, batch_id: str) -> str:
        return f"arn:execution:{batch_id}"

    def stop(self, batch_id: str, reason: str) -> None:
        self.stopped.append(batch_id)


@dataclass
class InMemoryBatches:
    """The batches table: batch records, chunk records with leases, and recorded results."""

    batches: dict[str, Batch] = field(default_factory=dict)
    chunk_states: dict[tuple[str, int], ChunkState] = field(default_factory=dict)
    leases: dict[tuple[str, int], Lease] = field(default_factory=dict)
    recorded: dict[tuple[str, int], dict[int, BatchItem]] = field(default_factory=dict)
    expiries: dict[str, datetime] = field(default_factory=dict)
    record_calls: int = 0

    def create(self, batch: Batch) -> None:
        assert batch.batch_id not in self.batches
        self.batches[batch.batch_id] = batch

    def get(self, batch_id: str) -> Batch | None:
        return self.batches.get(batch_id)

    def request_stop(self, batch_id: str, reason: StopReason) -> None:
        batch = self.batches[batch_id]
        self.batches[batch_id] = replace(batch, stop_reason=batch.stop_reason or reason)

    def list_batches(self, owner: str, filters: BatchFilter, limit: int, cursor: dict[str, str] | None) -> BatchPage:
        mine = sorted((b for b in self.batches.values() if b.owner == owner), key=lambda b: b.created_at, reverse=True)
        matching = [
            b
            for b in mine
            if (filters.status is None or b.status is filters.status)
            and (filters.operation is None or b.operation == filters.operation)
        ]
        start = int(cursor["at"]) if cursor else 0
        page = matching[start : start + limit]
        return BatchPage(page, {"at": str(start + limit)} if len(matching) > start + limit else None)

    def mark_retried(self, batch_id: str, retry_batch_id: str) -> bool:
        if self.batches[batch_id].retried_by:
            return False
        self.batches[batch_id] = replace(self.batches[batch_id], retried_by=retry_batch_id)
        return True

    def unmark_retried(self, batch_id: str, retry_batch_id: str) -> None:
        self.batches[batch_id] = replace(self.batches[batch_id], retried_by=None)

    def finalize(self, batch: Batch) -> bool:
        if self.batches[batch.batch_id].is_final:
            return False
        self.batches[batch.batch_id] = batch
        return True

    def expire(self, batch_id: str, at: datetime) -> None:
        self.expiries[batch_id] = at

    def set_counts(self, batch_id: str, counts: Counts) -> None:
        self.batches[batch_id] = replace(self.batches[batch_id], counts=counts)

    def mark_published(self, batch_id: str) -> None:
        self.batches[batch_id] = replace(self.batches[batch_id], published=True)

    def mark_notified(self, batch_id: str) -> None:
        self.batches[batch_id] = replace(self.batches[batch_id], notified=True)

    # ChunkRepository

    def live_state(self, batch_id: str) -> LiveState | None:
        batch = self.batches.get(batch_id)
        return LiveState(batch.stop_reason, batch.is_final, batch.counts) if batch else None

    def plan(self, batch_id: str, plan: Plan, total_items: int, source: ItemSource, chunks: Sequence[Chunk]) -> None:
        for chunk in chunks:
            self.chunk_states[(batch_id, chunk.number)] = ChunkState(chunk, done=False)
        batch = self.batches[batch_id]
        self.batches[batch_id] = replace(batch, plan=plan, total_items=total_items, source=source)

    def reject(self, batch_id: str, error: ErrorInfo) -> None:
        self.request_stop(batch_id, StopReason.INVALID_MANIFEST)
        self.batches[batch_id] = replace(self.batches[batch_id], error=error)

    def chunks(self, batch_id: str, first_number: int, limit: int) -> list[ChunkState]:
        mine = sorted(
            (s for (b, n), s in self.chunk_states.items() if b == batch_id and n >= first_number),
            key=lambda s: s.chunk.number,
        )
        held = {n: lease.until for (b, n), lease in self.leases.items() if b == batch_id}
        return [replace(s, held_until=held.get(s.chunk.number)) for s in mine[:limit]]

    def unfinished_chunks(self, batch_id: str) -> list[ChunkState]:
        return [s for s in self.chunks(batch_id, 0, 10**7) if not s.done]

    def claim_chunk(self, batch_id: str, number: int, lease: Lease) -> bool:
        held = self.leases.get((batch_id, number))
        free = (
            held is None
            or held.until < lease.taken_at
            or (held.execution == lease.execution and held.attempt <= lease.attempt)
        )
        if free:
            self.leases[(batch_id, number)] = lease
        return free

    def results(self, batch_id: str, number: int) -> list[BatchItem]:
        return list(self.recorded.get((batch_id, number), {}).values())

    def record_results(
        self, batch_id: str, number: int, lease: Lease, items: Sequence[BatchItem], done: bool, release: bool
    ) -> None:
        self.record_calls += 1
        if self.leases.get((batch_id, number)) != lease:
            raise LeaseLostError("taken over")
        group = self.recorded.setdefault((batch_id, number), {})
        assert not set(group) & {i.index for i in items}, "an item recorded twice"
        group.update({i.index: i for i in items})
        batch = self.batches[batch_id]
        if not batch.is_final:
            c = batch.counts
            self.batches[batch_id] = replace(
                batch,
                counts=replace(
                    c,
                    succeeded=c.succeeded + sum(i.status is ItemStatus.SUCCEEDED for i in items),
                    failed=c.failed + sum(i.status is ItemStatus.FAILED for i in items),
                    item_duration_ms=c.item_duration_ms + sum(i.duration_ms or 0 for i in items),
                ),
            )
        state = self.chunk_states[(batch_id, number)]
        self.chunk_states[(batch_id, number)] = replace(state, done=state.done or done, recorded=len(group))
        if release:
            del self.leases[(batch_id, number)]


@dataclass
class InMemoryItemStore:
    """The items bucket: manifests and chunk lists."""

    objects: dict[str, bytes] = field(default_factory=dict)

    def put_items(self, batch_id: str, lines: Iterable[bytes]) -> ItemSource:
        key = f"batches/{batch_id}/items.jsonl"
        self.objects[key] = b"".join(lines)
        return ItemSource(key, ManifestFormat.JSONL)

    def adopt(self, batch_id: str, source: ItemSource) -> ItemSource:
        key = f"batches/{batch_id}/items.{source.format.value}"
        self.objects[key] = self.objects[source.key]
        return replace(source, key=key)

    def lines(self, source: ItemSource, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        data = self.objects[source.key][start:end]
        yield from data.splitlines(keepends=True)

    def put_chunk_list(self, batch_id: str, run: int, chunks: Sequence[Chunk]) -> str:
        key = f"batches/{batch_id}/chunks-{run}.json"
        self.objects[key] = json.dumps([c.number for c in chunks]).encode()
        return key

    def put_public_manifest(self, batch_id: str, lines: Iterable[bytes]) -> ItemSource:
        key = f"batches/{batch_id}/items.public.jsonl"
        self.objects[key] = b"".join(lines)
        return ItemSource(key, ManifestFormat.JSONL, secrets_apart=True)

    def put_secrets(self, batch_id: str, chunk: int, values: Sequence[Mapping[str, Any]]) -> None:
        self.objects[f"batches/{batch_id}/secrets/{chunk}.json"] = json.dumps(list(values)).encode()

    def secrets(self, batch_id: str, chunk: int) -> list[dict[str, Any]]:
        data = self.objects.get(f"batches/{batch_id}/secrets/{chunk}.json")
        if data is None:
            raise BatchStoppedError(f"the secrets of batch {batch_id} are deleted")
        values: list[dict[str, Any]] = json.loads(data)
        return values

    def delete_manifest(self, source: ItemSource) -> None:
        self.objects.pop(source.key, None)

    def delete_secrets(self, batch_id: str) -> None:
        for key in [k for k in self.objects if k.startswith(f"batches/{batch_id}/secrets/")]:
            del self.objects[key]


@dataclass
class InMemoryUploads:
    store: InMemoryItemStore
    owners: dict[str, str] = field(default_factory=dict)
    used_by: dict[str, str] = field(default_factory=dict)
    formats: dict[str, ManifestFormat] = field(default_factory=dict)

    def create(self, owner: str, upload_id: str, fmt: ManifestFormat, now: datetime) -> UploadTicket:
        self.owners[upload_id] = owner
        self.formats[upload_id] = fmt
        return UploadTicket(upload_id, f"https://items.example/uploads/{upload_id}", {}, now, 512 * 1024 * 1024)

    def put(self, upload_id: str, data: bytes) -> None:
        """What the client's PUT to the ticket's URL does."""
        self.store.objects[f"uploads/{upload_id}"] = data

    def claim(self, owner: str, upload_id: str, batch_id: str) -> ItemSource:
        if self.owners.get(upload_id) != owner:
            raise UploadNotFoundError(upload_id)
        if upload_id in self.used_by:
            raise UploadUsedError(upload_id)
        self.used_by[upload_id] = batch_id
        return ItemSource(f"uploads/{upload_id}", self.formats.get(upload_id, ManifestFormat.JSONL), upload_id)

    def release(self, upload_id: str, batch_id: str) -> None:
        self.used_by.pop(upload_id, None)


@dataclass
class InMemoryLimits:
    slots: dict[tuple[str, str], int] = field(default_factory=dict)

    def take(self, owner: str, now: datetime, limit: int) -> bool:
        key = (owner, now.strftime("%Y-%m-%dT%H"))
        if self.slots.get(key, 0) >= limit:
            return False
        self.slots[key] = self.slots.get(key, 0) + 1
        return True

    def give_back(self, owner: str, now: datetime) -> None:
        key = (owner, now.strftime("%Y-%m-%dT%H"))
        self.slots[key] = max(0, self.slots.get(key, 0) - 1)


@dataclass
class InMemorySecretVersions:
    versions: dict[str, int] = field(default_factory=dict)

    def current_version(self, owner: str) -> int:
        return self.versions.get(owner, 0)

    def next_version(self, owner: str) -> int:
        self.versions[owner] = self.versions.get(owner, 0) + 1
        return self.versions[owner]


@dataclass
class InMemoryReports:
    objects: dict[tuple[str, ReportScope, ReportFormat], bytes] = field(default_factory=dict)

    def put_all(self, batch_id: str, pieces: Iterable[Mapping[ReportKey, bytes]]) -> None:
        written: dict[ReportKey, bytes] = {}
        for piece in pieces:
            for report, data in piece.items():
                written[report] = written.get(report, b"") + data
        self.objects.update({(batch_id, scope, fmt): body for (scope, fmt), body in written.items()})

    def link(self, batch_id: str, scope: ReportScope, fmt: ReportFormat, expires_in_seconds: int) -> str:
        return f"https://reports.example/{batch_id}/{scope}.{fmt}?expires={expires_in_seconds}"


@dataclass
class RecordedEvents:
    published: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        self.published.append((detail_type, detail))


@dataclass
class InMemoryContent:
    contents: dict[str, Content] = field(default_factory=dict)

    def create(self, content: Content) -> None:
        if content.content_id in self.contents:
            raise ContentExistsError(content.content_id)
        self.contents[content.content_id] = content

    def get(self, content_id: str) -> Content | None:
        return self.contents.get(content_id)

    def apply(self, change: Change) -> dict[str, Any]:
        before = self.contents.get(change.content_id)
        if before is None or before.owner != change.owner:
            raise ContentNotFoundError(change.content_id)
        if before.last_change_id == change.change_id:
            raise ChangeReplayedError(before)
        if change.require_active and before.is_removed:
            raise ContentRemovedError(change.content_id)
        fields = {
            "price": "price",
            "title": "title",
            "description": "description",
            "contentType": "content_type",
            "tokenGating": "token_gating",
            "refundable": "refundable",
            "refundWindowDays": "refund_window_days",
            "isRemoved": "is_removed",
            "removedAt": "removed_at",
            "removalReason": "removal_reason",
        }
        updates = {fields[k]: v for k, v in change.attributes.items()}
        self.contents[change.content_id] = replace(
            before, **updates, updated_at=change.at, last_batch_id=change.batch_id, last_change_id=change.change_id
        )
        return {name: getattr(before, field) for name, field in fields.items() if name in change.attributes}


@dataclass
class FakeContract:
    failing: set[str] = field(default_factory=set)
    calls: list[tuple[str, str, object]] = field(default_factory=list)

    def update_price(self, content_id: str, price: int) -> str | None:
        return self._call("price", content_id, price)

    def remove(self, content_id: str, reason: str) -> str | None:
        return self._call("remove", content_id, reason)

    def _call(self, kind: str, content_id: str, value: object) -> str | None:
        self.calls.append((kind, content_id, value))
        if content_id in self.failing:
            raise ContractSyncError("contract endpoint answered HTTP 502")
        return f"tx-{content_id}"


def content(content_id: str, owner: str = "alice", **overrides: object) -> Content:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    base = Content(content_id, owner, "Title", "", "article", 100, False, False, 0, at, at)
    return replace(base, **overrides)  # type: ignore[arg-type]
