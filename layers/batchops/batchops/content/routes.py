"""The content routes: POST /content (idempotent with an Idempotency-Key) and GET /content/{contentId}."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from batchops.api.errors import documented
from batchops.api.idempotency import IdempotencyKey
from batchops.api.routing import family_services, json_reply, new_router, once, owner
from batchops.content.fields import ContentFields
from batchops.content.models import Content
from batchops.content.service import ContentService, as_json
from batchops.domain.errors import NotFoundError
from batchops.operations.camel import CamelModel

router = new_router()


class ContentOut(CamelModel):
    content_id: str
    owner: str
    title: str
    description: str
    content_type: str
    price: int
    token_gating: bool
    refundable: bool
    refund_window_days: int
    is_removed: bool
    removed_at: str | None
    removal_reason: str | None
    created_at: str
    updated_at: str
    last_batch_id: str | None

    @classmethod
    def of(cls, c: Content) -> "ContentOut":
        return cls.model_validate(as_json(c))


def _contents() -> ContentService:
    return family_services(router, ContentService)


@router.post(
    "/content",
    responses=documented(
        201,
        "The created content item",
        ContentOut,
        RequestValidationError,
        IdempotencyValidationError,
        IdempotencyAlreadyInProgressError,
        body=True,
    ),
)
def create_content(
    fields: Annotated[ContentFields, Body()], idempotency_key: IdempotencyKey = None
) -> Response[ContentOut]:
    created = once(router, "content", idempotency_key, lambda: ContentOut.of(_contents().create(owner(router), fields)))
    content = ContentOut.model_validate(created)
    return json_reply(201, content, {"Location": f"/content/{content.content_id}"})


@router.get("/content/<contentId>", responses=documented(200, "The content item", ContentOut, NotFoundError))
def get_content(content_id: Annotated[str, Path(alias="contentId")]) -> Response[ContentOut]:
    return json_reply(200, ContentOut.of(_contents().get(owner(router), content_id)))
