"""Domain errors. Adapters translate infrastructure failures into these; the API maps them to HTTP."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field of a request: `field` is a dotted path such as `params.newPrice` or `items[3]`."""

    field: str
    message: str


class BatchOpsError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "internal_error"


class InvalidRequestError(BatchOpsError):
    code = "validation_error"

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


class NotFoundError(BatchOpsError):
    code = "not_found"


class BatchNotFoundError(NotFoundError):
    def __init__(self, batch_id: str) -> None:
        super().__init__(f"batch {batch_id} not found")


class ContentNotFoundError(NotFoundError):
    def __init__(self, content_id: str) -> None:
        super().__init__(f"content {content_id} not found")


class ContentRemovedError(BatchOpsError):
    code = "content_removed"

    def __init__(self, content_id: str) -> None:
        super().__init__(f"content {content_id} is removed")


class StoreUnavailableError(BatchOpsError):
    """The database failed in a way a retry may fix (throttling, 5xx, network)."""

    code = "store_unavailable"


class InfrastructureError(BatchOpsError):
    """A dependency refused a call for a reason no retry fixes (access denied, validation, missing resource)."""

    code = "internal_error"


class WorkflowStartError(BatchOpsError):
    code = "start_failed"


class WorkflowStopError(BatchOpsError):
    code = "stop_failed"


class ContractSyncError(BatchOpsError):
    """The downstream contract endpoint did not confirm a change."""

    code = "contract_sync_failed"


class ConflictError(BatchOpsError):
    """The request is valid, but not in the batch's current state."""


class BatchFinishedError(ConflictError):
    code = "batch_finished"


class SecretsDeletedError(ConflictError):
    """The batch's items held secrets, deleted once it was final: its items cannot run again."""

    code = "secrets_deleted"


class BatchNotFinishedError(ConflictError):
    code = "batch_not_finished"


class NothingToRetryError(ConflictError):
    code = "nothing_to_retry"


class AlreadyRetriedError(ConflictError):
    code = "already_retried"


class RateLimitedError(BatchOpsError):
    code = "rate_limited"

    def __init__(self, limit: int, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(f"at most {limit} new batches per hour; retry in {retry_after_seconds} s")


class WebhookDeliveryError(BatchOpsError):
    """The callback URL did not answer 2xx; the state machine retries with backoff."""

    code = "webhook_delivery_failed"


class CallbackRefusedError(BatchOpsError):
    """The callback URL leads somewhere webhooks may not go (a private address): never retried."""

    code = "callback_refused"


class ChunkBusyError(BatchOpsError):
    """Another invocation holds the chunk's lease (an at-least-once duplicate): the state machine retries later."""

    code = "chunk_busy"


class BatchStoppedError(BatchOpsError):
    """The batch stopped (or ended) before this chunk started: its child workflow fails, which ends the Map's
    round at once instead of starting every chunk left only to find the batch stopped."""

    code = "batch_stopped"


class ChunksRunningError(BatchOpsError):
    """An invocation still holds a chunk of the batch (a round ended early while children ran on): the state
    machine asks again shortly, so nothing is counted or finalized under a chunk that is still writing."""

    code = "chunks_running"


class LeaseLostError(BatchOpsError):
    """Another invocation took the chunk over: this one stops and records nothing more."""

    code = "lease_lost"


class UploadNotFoundError(NotFoundError):
    def __init__(self, upload_id: str) -> None:
        super().__init__(f"upload {upload_id} not found")


class UploadUsedError(ConflictError):
    code = "upload_used"
