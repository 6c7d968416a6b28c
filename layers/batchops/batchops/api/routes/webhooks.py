"""The caller's webhook secret: what signs the notifications of their batches."""

from aws_lambda_powertools.event_handler import Response

from batchops.api.errors import documented
from batchops.api.routing import json_reply, new_router, owner, services
from batchops.api.schemas import WebhookSecretOut

router = new_router()


def _secret(secret: str) -> Response[WebhookSecretOut]:
    # A secret is never stored by a cache on the way.
    return json_reply(200, WebhookSecretOut(secret=secret), {"Cache-Control": "no-store"})


@router.get(
    "/webhooks/secret",
    responses=documented(200, "The caller's secret that signs their webhooks", WebhookSecretOut),
)
def get_webhook_secret() -> Response[WebhookSecretOut]:
    return _secret(services(router).webhook_secrets.current(owner(router)))


@router.post(
    "/webhooks/secret/rotate",
    responses=documented(200, "A new secret; the old one signs nothing from now on", WebhookSecretOut),
)
def rotate_webhook_secret() -> Response[WebhookSecretOut]:
    return _secret(services(router).webhook_secrets.rotate(owner(router)))
