"""The events the state machine sends to the task functions."""

from pydantic import BaseModel, ConfigDict, Field


class TaskEvent(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class WorkflowError(TaskEvent):
    """What a Catch puts at its ResultPath."""

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class ItemEvent(TaskEvent):
    batch_id: str = Field(alias="batchId")
    index: int = Field(ge=0)


class ItemFailureEvent(ItemEvent):
    failure: WorkflowError


class FinalizeEvent(TaskEvent):
    batch_id: str = Field(alias="batchId")
    failure: WorkflowError | None = None
