"""Idempotent creates: with an `Idempotency-Key` header, the first reply to that key and body (Powertools
idempotency, over its own DynamoDB table). POST /content and POST /batches honour it."""

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

# Documented in the OpenAPI description; HTTP API hands headers over in lower case.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=255,
        description="The same key with the same body within 24 hours returns the first response.",
    ),
]


def _produced(request: dict[str, Any], produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The reply itself; Powertools keeps it under the request's key."""
    return produce()


class Idempotency:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._config = IdempotencyConfig(
            event_key_jmespath="key", payload_validation_jmespath="body", expires_after_seconds=24 * 60 * 60
        )
        store = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb)
        # A fixed prefix: the records' keys must not depend on where the function is defined.
        once = idempotent_function(
            data_keyword_argument="request", persistence_store=store, config=self._config, key_prefix="api.first_reply"
        )
        self._first_reply: Callable[..., dict[str, Any]] = once(_produced)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """An in-progress record expires with the invocation that wrote it (a crashed one does not block)."""
        self._config.register_lambda_context(context)

    def first_reply(
        self, route: str, owner: str, key: str, body: Any, produce: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """The first reply to this key and body; IdempotencyValidationError for the key with another body,
        IdempotencyAlreadyInProgressError while the first is still being handled."""
        # Keys are per route and per owner: two users may use the same key without meeting.
        request = {"key": f"{route}#{owner}#{key}", "body": body}
        reply: dict[str, Any] = self._first_reply(request=request, produce=produce)
        return reply
