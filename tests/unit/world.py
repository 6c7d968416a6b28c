"""A world of in-memory ports, wired by the same Engine that wires the Lambda functions' real ones."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

from batchops.content.family import CONTENT
from batchops.content.operations import ContentResources
from batchops.domain.batches import Caller, Submission
from batchops.domain.chunks import Lease
from batchops.domain.errors import BatchStoppedError
from batchops.domain.models import BatchOptions, BatchStatus, ManifestFormat
from batchops.domain.preparation import Round
from batchops.domain.processing import ChunkResult, ChunkRun, Timing
from batchops.engine import Engine
from batchops.users.family import USERS
from batchops.users.operations import UsersResources
from tests.unit.fake_users import FastHasher, InMemoryUsers
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
        engine = Engine(batches=self.repo, chunks=self.repo, store=self.store, clock=clock)
        self.items = engine.items
        self.finalizer = engine.finalizer(self.reports, self.events, retention=timedelta(days=90))
        self.limits = InMemoryLimits()
        self.service = engine.batch_service(
            workflow=self.workflow,
            ids=SequentialIds(),
            finalizer=self.finalizer,
            limits=self.limits,
            max_batches_per_hour=3,
            uploads=self.uploads,
        )
        self.preparer = engine.preparer()
        content = CONTENT.with_resources(ContentResources(self.content, self.contract))
        self.users = InMemoryUsers()
        users = USERS.with_resources(UsersResources(self.users, FastHasher()))
        self.processor = engine.processor(content, users, timing=Timing())

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
