"""The service's CloudWatch metrics (namespace batchops, Powertools EMF): named once here, for the handlers that
emit them and for the alarms and dashboard of template.yaml (a test holds the template to these names).

Every metric is emitted with the dimension sets [service] (what the alarms watch) and [operation]
(per operation, on the dashboard); per chunk or per batch, never per item."""

from enum import StrEnum

from batchops.domain.models import BatchStatus


class Metric(StrEnum):
    BATCHES_SUBMITTED = "BatchesSubmitted"
    # Per chunk invocation: items it recorded, by outcome, and how many it ran.
    ITEMS_SUCCEEDED = "Items_succeeded"
    ITEMS_FAILED = "Items_failed"
    CHUNK_SIZE = "ChunkSize"
    # Per final batch: seconds from start to end, and its share of failed items (percent).
    BATCH_DURATION = "BatchDuration"
    ITEM_FAILURE_RATE = "ItemFailureRate"
    # A batch that ended failed because the system broke (not its items, not its owner).
    BATCHES_FAILED_BY_SYSTEM = "BatchesFailedBySystem"
    # The EventBridge safety net finalized an execution that ended past every Catch of the state machine.
    SAFETY_NET_RUNS = "SafetyNetRuns"


def batches_ended(status: BatchStatus) -> str:
    """Batches that reached a final status: Batches_completed, Batches_failed, Batches_cancelled."""
    return f"Batches_{status.value}"
