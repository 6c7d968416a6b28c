"""WorkflowStarter over Step Functions: one execution per batch, named by the batch id."""

import json
from datetime import UTC, timedelta
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from batchops.domain.errors import WorkflowStartError, WorkflowStopError
from batchops.domain.models import Batch


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self._arn = state_machine_arn
        self._sfn = client or boto3.client("stepfunctions")

    def start(self, batch: Batch) -> None:
        # Only ids, numbers and a time: item bodies, params and callback URLs stay in DynamoDB, out of
        # the execution history.
        execution_input: dict[str, object] = {
            "batchId": batch.batch_id,
            "totalItems": batch.total_items,
            "maxConcurrency": batch.options.max_concurrency,
        }
        if batch.options.scheduled_for is not None:
            # Whole seconds, rounded up: a Wait state never starts the batch before its time.
            at = batch.options.scheduled_for.astimezone(UTC)
            at = at.replace(microsecond=0) + (timedelta(seconds=1) if at.microsecond else timedelta())
            execution_input["scheduledFor"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            self._sfn.start_execution(stateMachineArn=self._arn, name=batch.batch_id, input=json.dumps(execution_input))
        except (ClientError, BotoCoreError) as e:
            raise WorkflowStartError(f"starting the execution of batch {batch.batch_id} failed") from e

    def execution_arn(self, batch_id: str) -> str:
        # The execution is named by the batch id, so its ARN follows from the state machine's.
        return self._arn.replace(":stateMachine:", ":execution:", 1) + f":{batch_id}"

    def stop(self, batch_id: str, reason: str) -> None:
        execution_arn = self.execution_arn(batch_id)
        try:
            self._sfn.stop_execution(executionArn=execution_arn, cause=reason)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return
            raise WorkflowStopError(f"stopping the execution of batch {batch_id} failed") from e
        except BotoCoreError as e:
            raise WorkflowStopError(f"stopping the execution of batch {batch_id} failed") from e
