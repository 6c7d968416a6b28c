"""A world of in-memory ports wired like the Lambda functions wire the real ones."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

from batchops.content.operations import ContentResources
from batchops.domain.batches import BatchService, Caller, Submission
from batchops.domain.chunks import Lease
from batchops.domain.errors import BatchStoppedError
from batchops.domain.finalization import BatchFinalizer, Publication
from batchops.domain.items import BatchItems
from batchops.domain.models import BatchOptions, BatchStatus, ManifestFormat
from batchops.domain.preparation import BatchPreparer, Round
from batchops.domain.processing import ChunkInputs, ChunkProcessor, ChunkResult, ChunkRun
from batchops.operations.catalog import REGISTRY
from tests.unit.fakes import (
    FakeClock,
    FakeContract,
    FakeWorkflow,
    InMemoryBatches,
    InMemoryContent,
    InMemoryItemStore,
    InMemoryLimits,
    InMemoryReports,
    InMemoryUploads,
    RecordedEvents,
    SequentialIds,
)


class World:
    """One owner's batches and content, wired like the Lambda functions wire them."""

    def __init__(self, workflow_fails: bool = False) -> None:
        self.repo = InMemoryBatches()
        self.store = InMemoryItemStore()
        self.uploads = InMemoryUploads(self.store)
        self.content = InMemoryContent()
        self.contract = FakeContract()
        self.workflow = FakeWorkflow(fail=workflow_fails)
        self.clock = clock = FakeClock()
        self.reports = InMemoryReports()
        self.events = RecordedEvents()
        inputs = ChunkInputs(self.store, REGISTRY)
        self.items = BatchItems(self.repo, inputs)
        self.finalizer = BatchFinalizer(
            self.repo, clock, Publication(self.reports, self.events, timedelta(days=90), self.items)
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
            store=self.store,
            items=self.items,
            uploads=self.uploads,
        )
        self.preparer = BatchPreparer(self.repo, self.store, REGISTRY, clock)
        self.processor = ChunkProcessor(
            self.repo, inputs, REGISTRY.bind(ContentResources(self.content, self.contract)), clock
        )

    def submit(self, items: list[Any], continue_on_error: bool = True, **params: Any) -> str:
        return self.submit_with(items, BatchOptions(continue_on_error=continue_on_error), **params)

    def submit_with(self, items: list[Any], options: BatchOptions, **params: Any) -> str:
        submission = Submission(Caller("alice"), "content.update-price", params or {"newPrice": 5}, items, options)
        return self.service.submit(submission).batch_id

    @staticmethod
    def store_format() -> ManifestFormat:
        return ManifestFormat.JSONL

    def finish(self, batch_id: str) -> None:
        """Prepare, run every chunk and the aggregator, as one execution would."""
        self.run(batch_id)
        self.finalizer.finalize(batch_id, None)

    def start(self, batch_id: str) -> Round:
        """Prepare and MarkProcessing, as the state machine does first."""
        prepared = self.preparer.prepare(batch_id)
        batch = self.repo.batches[batch_id]
        self.repo.batches[batch_id] = replace(batch, status=BatchStatus.PROCESSING, started_at=self.clock.now())
        return prepared

    def run(self, batch_id: str) -> None:
        prepared = self.start(batch_id)
        for number in range(prepared.chunk_count):
            try:
                self.run_chunk(batch_id, number, threads=prepared.threads)
            except BatchStoppedError:
                return  # the child workflow fails, and with it the Map's round: the chunks left never start

    def run_chunk(
        self, batch_id: str, number: int, threads: int = 1, attempt: int = 0, execution: str = "x"
    ) -> ChunkResult:
        now = self.clock.now()
        lease = Lease(execution, attempt, now, now + timedelta(minutes=5))
        return self.processor.run(ChunkRun(batch_id, number, threads, lease, deadline_ms=float("inf")))
