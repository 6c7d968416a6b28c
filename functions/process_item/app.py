"""Map iteration task: apply the batch's operation to one item and record the result."""

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batchops.adapters.contract_http import contract_gateway
from batchops.adapters.dynamo_batches import DynamoBatchRepository
from batchops.adapters.dynamo_content import DynamoContentRepository
from batchops.adapters.system import SystemClock
from batchops.domain.processing import ItemProcessor, ItemRecorder
from batchops.events import ItemEvent
from batchops.operations.catalog import REGISTRY, Resources

logger = Logger()
tracer = Tracer()
metrics = Metrics()

processor = ItemProcessor(
    recorder=ItemRecorder(DynamoBatchRepository(os.environ["BATCHES_TABLE"]), SystemClock()),
    runner=REGISTRY.bind(
        Resources(
            content=DynamoContentRepository(os.environ["CONTENT_TABLE"]),
            contract=contract_gateway(
                os.environ.get("CONTRACT_ENDPOINT_URL"), float(os.environ.get("CONTRACT_TIMEOUT_SECONDS", "5"))
            ),
        )
    ),
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=ItemEvent)
def lambda_handler(event: ItemEvent, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(batch_id=event.batch_id, index=event.index)
    item = processor.process(event.batch_id, event.index)
    metrics.add_metric(name=f"Items_{item.status.value}", unit=MetricUnit.Count, value=1)
    # Kept tiny on purpose: the Map discards it, and every byte would count toward the history.
    return {"index": item.index, "status": item.status.value}
