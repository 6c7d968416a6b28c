"""WorkflowStarter over Step Functions: one execution per batch, named by the batch id."""

import json
from datetime import UTC, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from batchops.adapters.aws_errors import error_code, is_transient, translated
from batchops.domain.errors import WorkflowStartError, WorkflowStopError
from batchops.domain.models import Batch


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str, client: Any) -> None:
        self._arn = state_machine_arn
        self._sfn = client

    def start(self, batch: Batch) -> None:
        # Only ids, numbers and a time: item bodies, params and callback URLs stay in DynamoDB, out of
        # the execution history.
        execution_input: dict[str, object] = {
            "batchId": batch.batch_id,
            # Always present (null: now), so the Choice tests a value rather than a missing path.
            "scheduledFor": None,
        }
        if batch.options.scheduled_for is not None:
            # Whole seconds, rounded up: a Wait state never starts the batch before its time.
            at = batch.options.scheduled_for.astimezone(UTC)
            at = at.replace(microsecond=0) + (timedelta(seconds=1) if at.microsecond else timedelta())
            execution_input["scheduledFor"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            self._sfn.start_execution(stateMachineArn=self._arn, name=batch.batch_id, input=json.dumps(execution_input))
        except (ClientError, BotoCoreError) as e:
            action = f"starting the execution of batch {batch.batch_id}"
            raise (WorkflowStartError(f"{action} failed") if is_transient(e) else translated(action, e)) from e

    def execution_arn(self, batch_id: str) -> str:
        # The execution is named by the batch id, so its ARN follows from the state machine's.
        return self._arn.replace(":stateMachine:", ":execution:", 1) + f":{batch_id}"

    def stop(self, batch_id: str, reason: str) -> None:
        execution_arn = self.execution_arn(batch_id)
        try:
            self._sfn.stop_execution(executionArn=execution_arn, cause=reason)
        except (ClientError, BotoCoreError) as e:
            if isinstance(e, ClientError) and error_code(e) == "ExecutionDoesNotExist":
                return
            action = f"stopping the execution of batch {batch_id}"
            raise (WorkflowStopError(f"{action} failed") if is_transient(e) else translated(action, e)) from e
