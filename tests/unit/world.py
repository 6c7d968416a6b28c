"""A world of in-memory ports wired like the Lambda functions wire the real ones."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

from batchops.content.operations import ContentResources
from batchops.domain.batches import BatchService, Caller, Submission
from batchops.domain.finalization import BatchFinalizer, Publication
from batchops.domain.models import BatchOptions, BatchStatus
from batchops.domain.processing import ItemProcessor, ItemRecorder
from batchops.operations.catalog import REGISTRY
from tests.unit.fakes import (
    FakeClock,
    FakeContract,
    FakeWorkflow,
    InMemoryBatches,
    InMemoryContent,
    InMemoryLimits,
    InMemoryReports,
    RecordedEvents,
    SequentialIds,
)


class World:
    """One owner's batches and content, wired like the Lambda functions wire them."""

    def __init__(self, workflow_fails: bool = False) -> None:
        self.repo = InMemoryBatches()
        self.content = InMemoryContent()
        self.contract = FakeContract()
        self.workflow = FakeWorkflow(fail=workflow_fails)
        self.clock = clock = FakeClock()
        self.reports = InMemoryReports()
        self.events = RecordedEvents()
        self.finalizer = BatchFinalizer(
            self.repo, clock, Publication(self.reports, self.events, retention=timedelta(days=90))
        )
        self.limits = InMemoryLimits()
        self.service = BatchService(
            self.repo,
            self.workflow,
            REGISTRY,
            clock,
            SequentialIds(),
            self.finalizer,
            limits=self.limits,
            max_batches_per_hour=3,
        )
        self.processor = ItemProcessor(
            ItemRecorder(self.repo, clock), REGISTRY.bind(ContentResources(self.content, self.contract))
        )

    def submit(self, items: list[Any], continue_on_error: bool = True, **params: Any) -> str:
        return self.submit_with(items, BatchOptions(continue_on_error=continue_on_error), **params)

    def submit_with(self, items: list[Any], options: BatchOptions, **params: Any) -> str:
        submission = Submission(Caller("alice"), "content.update-price", params or {"newPrice": 5}, items, options)
        return self.service.submit(submission).batch_id

    def finish(self, batch_id: str) -> None:
        """Run every item and the aggregator, as one execution would."""
        self.run(batch_id)
        self.finalizer.finalize(batch_id, None)

    def start(self, batch_id: str) -> None:
        """MarkProcessing, as the state machine does first."""
        batch = self.repo.batches[batch_id]
        self.repo.batches[batch_id] = replace(batch, status=BatchStatus.PROCESSING, started_at=self.clock.now())

    def run(self, batch_id: str) -> None:
        for index in range(self.repo.batches[batch_id].total_items):
            self.processor.process(batch_id, index)
