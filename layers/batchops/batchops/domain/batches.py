"""Submitting, reading, cancelling and retrying batches."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from batchops.domain.callbacks import callback_problem
from batchops.domain.errors import (
    AlreadyRetriedError,
    BatchFinishedError,
    BatchNotFinishedError,
    BatchNotFoundError,
    FieldProblem,
    InfrastructureError,
    InvalidRequestError,
    NothingToRetryError,
    RateLimitedError,
    SecretsDeletedError,
    WorkflowStartError,
)
from batchops.domain.finalization import BatchFinalizer, SystemFailure
from batchops.domain.items import BatchItems
from batchops.domain.manifests import to_jsonl
from batchops.domain.models import (
    Batch,
    BatchFilter,
    BatchOptions,
    BatchPage,
    BatchStatus,
    ItemRef,
    ItemStatus,
    Page,
    StopReason,
)
from batchops.domain.ports import (
    BatchRepository,
    Clock,
    HourlyLimits,
    IdGenerator,
    ItemStore,
    RequestValidator,
    Uploads,
    WorkflowStarter,
)

RETRYABLE = (ItemStatus.FAILED, ItemStatus.CANCELLED, ItemStatus.SKIPPED)
# Chunks one GET /batches/{id}/items request reads at most.
_CHUNKS_PER_PAGE = 20
_HOUR = timedelta(hours=1)
# A Standard execution lives at most a year, waiting included: keep a day to process the batch.
_MAX_SCHEDULE_AHEAD = timedelta(days=364)


@dataclass(frozen=True)
class _Upload:
    upload_id: str


def _value(ref: ItemRef) -> Any:
    """An item as a manifest line holds it: its body if it has one, else its id."""
    return ref.body if ref.body is not None else ref.item_id


def owned_batch(repo: BatchRepository, owner: str, batch_id: str) -> Batch:
    """The owner's batch; another owner's is reported exactly like a missing one, so ids reveal nothing."""
    batch = repo.get(batch_id)
    if batch is None or batch.owner != owner:
        raise BatchNotFoundError(batch_id)
    return batch


@dataclass(frozen=True)
class Caller:
    """Who asks, as the HTTP API saw them; recorded with each batch they create (audit)."""

    owner: str
    source_ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Submission:
    caller: Caller
    operation: str
    params: Mapping[str, Any]
    # Exactly one of the two: the items themselves, or an upload holding them.
    items: Sequence[Any] | None
    options: BatchOptions
    upload_id: str | None = None


@dataclass(frozen=True)
class BatchService:
    repo: BatchRepository
    workflow: WorkflowStarter
    validator: RequestValidator
    clock: Clock
    ids: IdGenerator
    finalizer: BatchFinalizer
    limits: HourlyLimits
    max_batches_per_hour: int
    store: ItemStore
    items: BatchItems
    uploads: Uploads
    allow_loopback_callbacks: bool = False

    def submit(self, submission: Submission) -> Batch:
        request = self.validator.validate(submission.operation, submission.params, submission.items or [])
        problems = self._option_problems(submission.options)
        problems += _duplicates(request.items)
        if problems:
            raise InvalidRequestError(problems)
        caller, operation, options = submission.caller, submission.operation, submission.options
        if submission.upload_id is not None:
            return self._create(caller, operation, request.params, _Upload(submission.upload_id), options)
        assert submission.items is not None
        return self._create(caller, operation, request.params, list(submission.items), options)

    def get(self, owner: str, batch_id: str) -> Batch:
        return owned_batch(self.repo, owner, batch_id)

    def list_batches(self, owner: str, filters: BatchFilter, limit: int, cursor: dict[str, str] | None) -> BatchPage:
        return self.repo.list_batches(owner, filters, limit, cursor)

    def list_items(
        self, owner: str, batch_id: str, status: ItemStatus | None, limit: int, after_index: int | None
    ) -> Page:
        return self.items.page(self.get(owner, batch_id), status, limit, after_index, max_chunks=_CHUNKS_PER_PAGE)

    def cancel(self, owner: str, batch_id: str) -> Batch:
        batch = self.get(owner, batch_id)
        if batch.status is BatchStatus.CANCELLED:
            return batch  # cancelling twice is harmless
        if batch.is_final:
            raise BatchFinishedError(f"batch {batch_id} is already {batch.status.value}")
        # No new item starts once this is set: items already running finish and keep their results,
        # the others end cancelled, and the aggregator ends the batch cancelled.
        self.repo.request_stop(batch_id, StopReason.CANCELLED)
        current = self.get(owner, batch_id)
        if current.status is BatchStatus.SCHEDULED:
            # Its execution only waits for the scheduled time: stop it; the aggregator hears of it. Should
            # the wait end meanwhile, MarkProcessing refuses a batch with a stop flag, so no item starts.
            self.workflow.stop(batch_id, "cancelled by its owner")
        return current

    def retry(self, caller: Caller, batch_id: str) -> Batch:
        parent = self.get(caller.owner, batch_id)
        if not parent.is_final:
            raise BatchNotFinishedError(f"batch {batch_id} is {parent.status.value}; retry it once it is final")
        if parent.source.secrets_apart:
            raise SecretsDeletedError(
                f"the items of batch {batch_id} held secrets, deleted once it was final; submit them again"
            )
        values = [_value(item.ref) for item in self.items.all(parent) if item.status in RETRYABLE]
        if not values:
            raise NothingToRetryError(f"batch {batch_id} has no failed, cancelled or skipped items")
        if parent.retried_by:
            raise AlreadyRetriedError(f"batch {batch_id} was already retried by {parent.retried_by}")
        retry_id = self.ids.new_id()
        # Claimed first, so two concurrent retries never both create a batch, nor both count one.
        if not self.repo.mark_retried(batch_id, retry_id):
            raise AlreadyRetriedError(f"batch {batch_id} was already retried")
        try:
            return self._create(
                caller, parent.operation, parent.params, values, parent.options.for_retry(), batch_id, retry_id
            )
        except Exception:
            self.repo.unmark_retried(batch_id, retry_id)
            raise

    def _option_problems(self, options: BatchOptions) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        if options.scheduled_for is not None:
            now = self.clock.now()
            if options.scheduled_for <= now:
                problems.append(FieldProblem("options.scheduledFor", "must be in the future"))
            elif options.scheduled_for > now + _MAX_SCHEDULE_AHEAD:
                problems.append(FieldProblem("options.scheduledFor", "must be at most one year ahead"))
        if options.callback_url is not None:
            problem = callback_problem(options.callback_url, self.allow_loopback_callbacks)
            if problem:
                problems.append(FieldProblem("options.callbackUrl", problem))
        return problems

    def _create(
        self,
        caller: Caller,
        operation: str,
        params: dict[str, Any],
        items: "list[Any] | _Upload",
        options: BatchOptions,
        parent_batch_id: str | None = None,
        batch_id: str | None = None,
    ) -> Batch:
        """All or nothing: a batch is counted against the hourly limit only if it is created and started."""
        now = self.clock.now()
        if not self.limits.take(caller.owner, now, self.max_batches_per_hour):
            next_hour = now.replace(minute=0, second=0, microsecond=0) + _HOUR
            raise RateLimitedError(self.max_batches_per_hour, max(1, math.ceil((next_hour - now).total_seconds())))
        batch_id = batch_id or self.ids.new_id()
        try:
            if isinstance(items, _Upload):
                source, total = self.uploads.claim(caller.owner, items.upload_id, batch_id), None
            else:
                source, total = self.store.put_items(batch_id, to_jsonl(items)), len(items)
        except Exception:
            self.limits.give_back(caller.owner, now)
            raise
        batch = Batch(
            batch_id=batch_id,
            owner=caller.owner,
            operation=operation,
            status=BatchStatus.SCHEDULED if options.scheduled_for else BatchStatus.PENDING,
            total_items=total,
            source=source,
            params=params,
            options=options,
            created_at=now,
            parent_batch_id=parent_batch_id,
            source_ip=caller.source_ip,
            user_agent=caller.user_agent,
            # Known before it starts (the execution is named by the batch id): stored from the first read.
            execution_arn=self.workflow.execution_arn(batch_id),
        )
        try:
            self.repo.create(batch)
        except Exception:
            if source.upload_id is not None:
                self.uploads.release(source.upload_id, batch_id)
            self.limits.give_back(caller.owner, now)
            raise
        try:
            self._start(batch)
        except Exception:
            self.limits.give_back(caller.owner, now)
            raise
        return batch

    def _start(self, batch: Batch) -> None:
        try:
            self.workflow.start(batch)
        except (WorkflowStartError, InfrastructureError) as e:
            # The record exists but nothing will ever run it: end it now, as the aggregator ends any batch
            # (items skipped, reports, expiry, event), rather than leave it pending.
            failure = SystemFailure(str(e), code=e.code, message="the batch could not be started")
            self.finalizer.finalize(batch.batch_id, failure)
            raise


def _duplicates(items: list[ItemRef]) -> list[FieldProblem]:
    """Each entry whose id an earlier entry has, named with that entry (an email twice in users.create)."""
    first: dict[str, int] = {}
    problems = []
    for index, ref in enumerate(items):
        if ref.item_id is None:
            continue
        seen = first.setdefault(ref.item_id, index)
        if seen != index:
            problems.append(FieldProblem(f"items[{index}]", f"duplicate of items[{seen}] (item id {ref.item_id!r})"))
    return problems
