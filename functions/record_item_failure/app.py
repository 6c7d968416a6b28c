"""Failure handler: an item whose invocations kept failing is recorded as failed, so the batch goes on."""

import os
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batchops.adapters.dynamo_batches import DynamoBatchRepository
from batchops.adapters.system import SystemClock
from batchops.domain.processing import ItemRecorder
from batchops.events import ItemFailureEvent

logger = Logger()
tracer = Tracer()

recorder = ItemRecorder(DynamoBatchRepository(os.environ["BATCHES_TABLE"]), SystemClock())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=ItemFailureEvent)
def lambda_handler(event: ItemFailureEvent, context: LambdaContext) -> dict[str, Any]:
    logger.warning(
        "item failed after retries",
        extra={"batch_id": event.batch_id, "index": event.index, "error": event.failure.error},
    )
    item = recorder.record_system_failure(event.batch_id, event.index, event.failure.error)
    return {"index": item.index, "status": item.status.value}
