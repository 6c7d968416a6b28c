"""In-memory implementations of the ports, for testing the domain without AWS."""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from batchops.content.models import Change, Content
from batchops.domain.errors import ContentNotFoundError, ContentRemovedError, ContractSyncError, WorkflowStartError
from batchops.domain.models import (
    Batch,
    BatchFilter,
    BatchItem,
    BatchPage,
    Counts,
    ItemStatus,
    Page,
    StopReason,
)
from batchops.domain.reports import ReportFormat, ReportScope


class FakeClock:
    def __init__(self) -> None:
        self._now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
        self._ms = 0.0

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=5)
        return self._now

    def monotonic_ms(self) -> float:
        self._ms += 7
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
    batches: dict[str, Batch] = field(default_factory=dict)
    items: dict[tuple[str, int], BatchItem] = field(default_factory=dict)
    expiries: dict[str, datetime] = field(default_factory=dict)

    def create(self, batch: Batch, items: list[BatchItem]) -> None:
        self.items.update({(i.batch_id, i.index): i for i in items})
        self.batches[batch.batch_id] = batch

    def get(self, batch_id: str) -> Batch | None:
        return self.batches.get(batch_id)

    def get_with_item(self, batch_id: str, index: int) -> tuple[Batch, BatchItem] | None:
        if batch_id not in self.batches or (batch_id, index) not in self.items:
            return None
        return self.batches[batch_id], self.items[(batch_id, index)]

    def list_items(self, batch_id: str, status: ItemStatus | None, limit: int, after_index: int | None) -> Page:
        matching = [
            i
            for i in self.all_items(batch_id)
            if (status is None or i.status is status) and (after_index is None or i.index > after_index)
        ]
        page = matching[:limit]
        return Page(page, page[-1].index if len(matching) > limit else None)

    def all_items(self, batch_id: str) -> list[BatchItem]:
        return sorted((i for (b, _), i in self.items.items() if b == batch_id), key=lambda i: i.index)

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

    def record_outcome(self, item: BatchItem) -> bool:
        if self.items[(item.batch_id, item.index)].status is not ItemStatus.PENDING:
            return False
        self.items[(item.batch_id, item.index)] = item
        return True

    def add_to_counts(self, batch_id: str, status: ItemStatus, duration_ms: int) -> Counts:
        batch = self.batches[batch_id]
        c = batch.counts
        counts = Counts(
            succeeded=c.succeeded + (status is ItemStatus.SUCCEEDED),
            failed=c.failed + (status is ItemStatus.FAILED),
            skipped=c.skipped + (status is ItemStatus.SKIPPED),
            cancelled=c.cancelled + (status is ItemStatus.CANCELLED),
            item_duration_ms=c.item_duration_ms + duration_ms,
        )
        self.batches[batch_id] = replace(batch, counts=counts)
        return counts

    def finalize(self, batch: Batch) -> bool:
        if self.batches[batch.batch_id].is_final:
            return False
        self.batches[batch.batch_id] = batch
        return True

    def expire(self, batch_id: str, items: list[BatchItem], at: datetime) -> None:
        self.expiries[batch_id] = at

    def set_counts(self, batch_id: str, counts: Counts) -> None:
        self.batches[batch_id] = replace(self.batches[batch_id], counts=counts)

    def mark_published(self, batch_id: str) -> None:
        self.batches[batch_id] = replace(self.batches[batch_id], published=True)

    def mark_notified(self, batch_id: str) -> None:
        self.batches[batch_id] = replace(self.batches[batch_id], notified=True)


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

    def put(self, batch_id: str, scope: ReportScope, fmt: ReportFormat, body: bytes) -> None:
        self.objects[(batch_id, scope, fmt)] = body

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
        self.contents[content.content_id] = content

    def get(self, content_id: str) -> Content | None:
        return self.contents.get(content_id)

    def apply(self, change: Change) -> Content:
        before = self.contents.get(change.content_id)
        if before is None or before.owner != change.owner:
            raise ContentNotFoundError(change.content_id)
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
            before, **updates, updated_at=change.at, last_batch_id=change.batch_id
        )
        return before


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
