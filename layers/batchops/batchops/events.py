"""The events the task functions receive: from the state machine, and from EventBridge."""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The Fail states an execution ends in once the aggregator has closed its batch (statemachine/batch.asl.json):
# an execution ending so is the normal end of a failed or cancelled batch, not a breakdown.
BATCH_ENDED_STATES = frozenset({"BatchFailed", "BatchCancelled"})


class TaskEvent(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class WorkflowError(TaskEvent):
    """What a Catch puts at its ResultPath."""

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class BatchEvent(TaskEvent):
    batch_id: str = Field(alias="batchId")


class RoundProgress(TaskEvent):
    chunk_count: int = Field(alias="chunkCount", ge=0)
    processed: int = Field(ge=0)


class PrepareEvent(BatchEvent):
    # 0: check the manifest and list every chunk; n > 0: list the chunks round n - 1 left unfinished.
    round: int = Field(default=0, ge=0)
    # Where the previous round started: a round that finished no chunk and no item ends the batch.
    previous: RoundProgress | None = None


class RoundOut(TaskEvent):
    """What the prepare task tells the state machine (its ResultSelector reads these fields): chunk numbers in
    S3 and how many run at once, never items."""

    number: int
    valid: bool
    chunk_count: int = Field(alias="chunkCount")
    chunks_key: str | None = Field(alias="chunksKey")
    threads: int
    parallel_chunks: int = Field(alias="parallelChunks")
    # Items processed when the round was listed.
    processed: int
    # The previous round finished no chunk and no item: running it again would not either.
    stalled: bool


class ChunkNext(StrEnum):
    """What the child workflow does after a chunk invocation (its Choice state tests these)."""

    DONE = "done"
    # Out of time, items left: invoke again within this child workflow.
    AGAIN = "again"
    # The child workflow is out of time too: the next round of the Map takes the chunk.
    LATER = "later"


class ChunkEvent(BatchEvent):
    """One invocation for a chunk, from a child workflow of the Distributed Map."""

    number: int = Field(ge=0)
    threads: int = Field(ge=1)
    # The lease: which workflow runs the chunk, and its attempt (a retry takes over from a crashed one).
    execution: str
    attempt: int = Field(ge=0)
    # When the child workflow started: an EXPRESS child lives five minutes at most.
    child_started_at: datetime = Field(alias="childStartedAt")
    # Set when the chunk's retries ran out: its unrecorded items are recorded failed.
    failure: WorkflowError | None = None


class FinalizeEvent(BatchEvent):
    failure: WorkflowError | None = None


class ExecutionStatus(TaskEvent):
    name: str
    status: str
    error: str | None = None
    cause: str | None = None


class ExecutionEndedEvent(TaskEvent):
    """EventBridge's "Step Functions Execution Status Change" for an execution that did not succeed.

    Real Step Functions ends some executions past every Catch (States.Runtime, the history limit, a
    timeout, StopExecution); this event is how the aggregator still gets the last word on the batch.
    """

    source: Literal["aws.states"]
    detail: ExecutionStatus

    def to_finalize(self) -> FinalizeEvent:
        # The execution's name is the batchId.
        if self.detail.error in BATCH_ENDED_STATES:
            return FinalizeEvent(batch_id=self.detail.name)
        error = self.detail.error or f"execution {self.detail.status}"
        return FinalizeEvent(batch_id=self.detail.name, failure=WorkflowError(error=error, cause=self.detail.cause))
