"""Aggregator: the last step of every execution, normal or not. Records final status, counts and timings.

Also the safety net: EventBridge invokes it when an execution ends outside the state machine's Catch paths."""

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batchops.adapters.dynamo_batches import DynamoBatchRepository
from batchops.adapters.system import SystemClock
from batchops.domain.finalization import BatchFinalizer, SystemFailure
from batchops.events import ExecutionEndedEvent, FinalizeEvent

logger = Logger()
tracer = Tracer()
metrics = Metrics()

finalizer = BatchFinalizer(DynamoBatchRepository(os.environ["BATCHES_TABLE"]), SystemClock())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FinalizeEvent | ExecutionEndedEvent)
def lambda_handler(event: FinalizeEvent | ExecutionEndedEvent, context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, ExecutionEndedEvent):
        event = event.to_finalize()
    failure = None
    if event.failure is not None:
        logger.error("batch workflow failed", extra={"batch_id": event.batch_id, "error": event.failure.error})
        failure = SystemFailure(event.failure.error)
    batch = finalizer.finalize(event.batch_id, failure)
    metrics.add_metric(name=f"Batches_{batch.status.value}", unit=MetricUnit.Count, value=1)
    return {"batchId": batch.batch_id, "status": batch.status.value}
