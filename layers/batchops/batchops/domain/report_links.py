"""Handing out a finished batch's reports."""

from dataclasses import dataclass

from batchops.domain.batches import owned_batch
from batchops.domain.errors import BatchNotFinishedError
from batchops.domain.ports import BatchRepository, ReportStore
from batchops.domain.reports import ReportFormat, ReportScope

LINK_LIFETIME_SECONDS = 15 * 60


@dataclass(frozen=True)
class ReportLinks:
    repo: BatchRepository
    store: ReportStore

    def link(self, owner: str, batch_id: str, scope: ReportScope, fmt: ReportFormat) -> str:
        batch = owned_batch(self.repo, owner, batch_id)
        # The aggregator writes the reports before it marks the batch final.
        if not batch.is_final:
            raise BatchNotFinishedError(f"batch {batch_id} is {batch.status.value}; its report comes once it is final")
        return self.store.link(batch_id, scope, fmt, LINK_LIFETIME_SECONDS)
