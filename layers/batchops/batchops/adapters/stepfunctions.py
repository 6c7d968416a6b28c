"""WorkflowStarter over Step Functions: one execution per batch, named by the batch id."""

import json
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from batchops.domain.errors import WorkflowStartError
from batchops.domain.models import Batch


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self._arn = state_machine_arn
        self._sfn = client or boto3.client("stepfunctions")

    def start(self, batch: Batch) -> str:
        # Only ids and numbers: item bodies and params stay in DynamoDB, out of the execution history.
        execution_input = {
            "batchId": batch.batch_id,
            "totalItems": batch.total_items,
            "maxConcurrency": batch.options.max_concurrency,
        }
        try:
            reply = self._sfn.start_execution(
                stateMachineArn=self._arn, name=batch.batch_id, input=json.dumps(execution_input)
            )
        except (ClientError, BotoCoreError) as e:
            raise WorkflowStartError(f"starting the execution of batch {batch.batch_id} failed") from e
        return str(reply["executionArn"])
