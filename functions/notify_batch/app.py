"""Webhook: POSTs a final batch's notification to its callbackUrl. Failures raise, and the state machine
retries with backoff; they never change the batch."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batchops.composition import this_environment
from batchops.events import BatchEvent

logger = Logger()
tracer = Tracer()

callbacks = this_environment().callbacks


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=BatchEvent)
def lambda_handler(event: BatchEvent, context: LambdaContext) -> dict[str, Any]:
    delivered = callbacks.notify(event.batch_id)
    logger.info("callback", extra={"batch_id": event.batch_id, "delivered": delivered})
    return {"batchId": event.batch_id, "delivered": delivered}
