"""Uploads: where a client PUTs a manifest too large for a request (up to 1,000,000 items)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body

from batchops.api.errors import documented
from batchops.api.routing import json_reply, new_router, owner, services
from batchops.api.schemas import UploadOut, UploadRequest

router = new_router()


@router.post(
    "/uploads",
    responses=documented(
        201,
        "Where to PUT a manifest (JSON Lines or CSV, one item per line)",
        UploadOut,
        RequestValidationError,
        body=True,
    ),
)
def create_upload(request: Annotated[UploadRequest, Body()]) -> Response[UploadOut]:
    ticket = services(router).uploads.create(owner(router), request.format)
    # The URL is a credential for 15 minutes: no cache keeps it.
    return json_reply(201, UploadOut.of(ticket), {"Cache-Control": "no-store"})
