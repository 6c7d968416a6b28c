"""Webhook: POSTs a final batch's notification to its callbackUrl. Failures raise, and the state machine
retries with backoff; they never change the batch."""

import os
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batchops.adapters.dynamo_batches import DynamoBatchRepository
from batchops.adapters.dynamo_owner_counters import DynamoSecretVersions
from batchops.adapters.system import SystemClock
from batchops.adapters.webhooks import HttpWebhookSender, SecretsManagerSecret
from batchops.domain.notifications import CallbackNotifier
from batchops.domain.webhook_secrets import WebhookSecrets
from batchops.events import BatchEvent

logger = Logger()
tracer = Tracer()

callbacks = CallbackNotifier(
    DynamoBatchRepository(os.environ["BATCHES_TABLE"]),
    HttpWebhookSender(allow_loopback=os.environ.get("ALLOW_LOOPBACK_CALLBACKS") == "true"),
    WebhookSecrets(
        SecretsManagerSecret(os.environ["WEBHOOK_SECRET_ARN"]), DynamoSecretVersions(os.environ["BATCHES_TABLE"])
    ),
    SystemClock(),
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=BatchEvent)
def lambda_handler(event: BatchEvent, context: LambdaContext) -> dict[str, Any]:
    delivered = callbacks.notify(event.batch_id)
    logger.info("callback", extra={"batch_id": event.batch_id, "delivered": delivered})
    return {"batchId": event.batch_id, "delivered": delivered}
