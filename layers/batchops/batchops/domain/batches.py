"""Submitting and reading batches."""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from batchops.domain.errors import (
    BatchNotFoundError,
    FieldProblem,
    InvalidRequestError,
    WorkflowStartError,
)
from batchops.domain.models import Batch, BatchItem, BatchOptions, BatchStatus, ErrorInfo, ItemStatus, Page
from batchops.domain.ports import BatchRepository, Clock, IdGenerator, RequestValidator, WorkflowStarter


@dataclass(frozen=True)
class Submission:
    owner: str
    operation: str
    params: Mapping[str, Any]
    items: Sequence[Any]
    options: BatchOptions


@dataclass(frozen=True)
class BatchService:
    repo: BatchRepository
    workflow: WorkflowStarter
    validator: RequestValidator
    clock: Clock
    ids: IdGenerator

    def submit(self, submission: Submission) -> Batch:
        request = self.validator.validate(submission.operation, submission.params, submission.items)
        duplicates = sorted(item_id for item_id, n in Counter(r.item_id for r in request.items).items() if n > 1)
        if duplicates:
            raise InvalidRequestError([FieldProblem("items", f"duplicate item ids: {', '.join(duplicates)}")])

        batch = Batch(
            batch_id=self.ids.new_id(),
            owner=submission.owner,
            operation=submission.operation,
            status=BatchStatus.PENDING,
            total_items=len(request.items),
            params=request.params,
            options=submission.options,
            created_at=self.clock.now(),
        )
        self.repo.create(batch, [BatchItem(batch.batch_id, i, ref) for i, ref in enumerate(request.items)])
        try:
            execution_arn = self.workflow.start(batch)
        except WorkflowStartError as e:
            # The record exists but nothing will ever run it: end it now rather than leave it pending.
            self.repo.fail(batch.batch_id, ErrorInfo(e.code, "the batch could not be started"), self.clock.now())
            raise
        return replace(batch, execution_arn=execution_arn)

    def get(self, owner: str, batch_id: str) -> Batch:
        batch = self.repo.get(batch_id)
        # Another owner's batch is reported exactly like a missing one, so ids reveal nothing.
        if batch is None or batch.owner != owner:
            raise BatchNotFoundError(batch_id)
        return batch

    def list_items(
        self, owner: str, batch_id: str, status: ItemStatus | None, limit: int, after_index: int | None
    ) -> Page:
        self.get(owner, batch_id)
        return self.repo.list_items(batch_id, status, limit, after_index)
