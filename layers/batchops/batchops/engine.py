"""The batch engine's services wired from its ports: the one wiring of them, used by the Lambda functions
(batchops.composition, over AWS) and by the unit tests (over in-memory fakes)."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

from batchops.domain.batches import BatchService
from batchops.domain.finalization import BatchFinalizer, Publication
from batchops.domain.inputs import ChunkInputs
from batchops.domain.items import BatchItems
from batchops.domain.notifications import CallbackNotifier
from batchops.domain.ports import (
    BatchRepository,
    ChunkRepository,
    Clock,
    EventPublisher,
    HourlyLimits,
    IdGenerator,
    ItemStore,
    ReportStore,
    Uploads,
    WebhookSender,
    WorkflowStarter,
)
from batchops.domain.preparation import BatchPreparer
from batchops.domain.processing import ChunkProcessor, Timing
from batchops.domain.webhook_secrets import WebhookSecrets
from batchops.operations.catalog import REGISTRY
from batchops.operations.registry import BoundFamily


@dataclass(frozen=True)
class Engine:
    """The ports every function has (the batches table and the items bucket), and the services built on them."""

    batches: BatchRepository
    chunks: ChunkRepository
    store: ItemStore
    clock: Clock

    @cached_property
    def inputs(self) -> ChunkInputs:
        return ChunkInputs(self.store, REGISTRY)

    @cached_property
    def items(self) -> BatchItems:
        return BatchItems(self.chunks, self.inputs)

    def preparer(self) -> BatchPreparer:
        return BatchPreparer(self.chunks, self.store, REGISTRY, self.clock)

    def processor(self, *families: BoundFamily[Any], timing: Timing) -> ChunkProcessor:
        """Runs each item with its own family's resources; `families` are those that may run here."""
        return ChunkProcessor(self.chunks, self.inputs, REGISTRY.bind(*families), self.clock, timing)

    def finalizer(self, reports: ReportStore, events: EventPublisher, retention: timedelta) -> BatchFinalizer:
        return BatchFinalizer(self.batches, self.clock, Publication(reports, events, retention, self.items))

    def batch_service(
        self,
        *,
        workflow: WorkflowStarter,
        ids: IdGenerator,
        finalizer: BatchFinalizer,
        limits: HourlyLimits,
        max_batches_per_hour: int,
        uploads: Uploads,
        allow_loopback_callbacks: bool = False,
    ) -> BatchService:
        return BatchService(
            repo=self.batches,
            workflow=workflow,
            validator=REGISTRY,
            clock=self.clock,
            ids=ids,
            finalizer=finalizer,
            limits=limits,
            max_batches_per_hour=max_batches_per_hour,
            store=self.store,
            items=self.items,
            uploads=uploads,
            allow_loopback_callbacks=allow_loopback_callbacks,
        )

    def callbacks(self, sender: WebhookSender, secrets: WebhookSecrets) -> CallbackNotifier:
        return CallbackNotifier(self.batches, sender, secrets, self.clock)
