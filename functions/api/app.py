"""The HTTP API: every route of the service. Wiring only: parse, call one service function, shape the reply."""

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from batchops.adapters.dynamo_batches import DynamoBatchRepository
from batchops.adapters.dynamo_chunks import DynamoChunkRepository
from batchops.adapters.dynamo_content import DynamoContentRepository
from batchops.adapters.dynamo_owner_counters import DynamoHourlyLimits, DynamoSecretVersions
from batchops.adapters.eventbridge import EventBridgePublisher
from batchops.adapters.s3_items import S3ItemStore
from batchops.adapters.s3_reports import S3ReportStore
from batchops.adapters.s3_uploads import S3Uploads
from batchops.adapters.stepfunctions import StepFunctionsStarter
from batchops.adapters.system import SystemClock, UuidGenerator
from batchops.adapters.token_introspection import HttpTokenIntrospector
from batchops.adapters.webhooks import SecretsManagerSecret
from batchops.api.body import media_type_problem, parse_json_object
from batchops.api.errors import documented, error_response, finished_description, request_problems
from batchops.api.identity import caller_subject
from batchops.api.schemas import (
    BatchesPageOut,
    BatchOut,
    BatchRequest,
    ContentOut,
    ItemOut,
    ItemsPageOut,
    UploadOut,
    UploadRequest,
    WebhookSecretOut,
    decode_list_token,
    decode_token,
    encode_list_token,
    encode_token,
)
from batchops.content.fields import ContentFields
from batchops.content.service import ContentService
from batchops.domain.batches import BatchService, Caller, Submission
from batchops.domain.errors import (
    BatchOpsError,
    ConflictError,
    FieldProblem,
    InfrastructureError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    StoreUnavailableError,
    WorkflowStartError,
    WorkflowStopError,
)
from batchops.domain.finalization import BatchFinalizer, Publication
from batchops.domain.items import BatchItems
from batchops.domain.models import BatchFilter, BatchStatus, ItemStatus
from batchops.domain.processing import ChunkInputs
from batchops.domain.report_links import ReportLinks
from batchops.domain.reports import ReportFormat, ReportScope
from batchops.domain.uploads import UploadService
from batchops.domain.webhook_secrets import WebhookSecrets
from batchops.operations.catalog import REGISTRY

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Bodies are parsed with our limits (depth, number size, objects only): a hostile body is a 400, not a crash.
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json_object)

_clock, _ids = SystemClock(), UuidGenerator()
_batches_repo = DynamoBatchRepository(os.environ["BATCHES_TABLE"])
_reports = S3ReportStore(os.environ["REPORTS_BUCKET"])
_items_store = S3ItemStore(os.environ["ITEMS_BUCKET"])
_items = BatchItems(DynamoChunkRepository(os.environ["BATCHES_TABLE"]), ChunkInputs(_items_store, REGISTRY))
_uploads = S3Uploads(os.environ["BATCHES_TABLE"], os.environ["ITEMS_BUCKET"])
# The API ends a batch itself only when its execution cannot start; it does so like the aggregator.
_publication = Publication(
    reports=_reports,
    events=EventBridgePublisher(os.environ["EVENT_BUS_NAME"]),
    retention=timedelta(days=int(os.environ["RETENTION_DAYS"])),
    items=_items,
)
batches = BatchService(
    repo=_batches_repo,
    workflow=StepFunctionsStarter(os.environ["STATE_MACHINE_ARN"]),
    validator=REGISTRY,
    clock=_clock,
    ids=_ids,
    finalizer=BatchFinalizer(_batches_repo, _clock, _publication),
    limits=DynamoHourlyLimits(os.environ["BATCHES_TABLE"]),
    max_batches_per_hour=int(os.environ["MAX_BATCHES_PER_HOUR"]),
    store=_items_store,
    items=_items,
    uploads=_uploads,
    allow_loopback_callbacks=os.environ.get("ALLOW_LOOPBACK_CALLBACKS") == "true",
)
uploads = UploadService(_uploads, _clock, _ids)
contents = ContentService(DynamoContentRepository(os.environ["CONTENT_TABLE"]), _clock, _ids)
reports = ReportLinks(_batches_repo, _reports)
webhook_secrets = WebhookSecrets(
    SecretsManagerSecret(os.environ["WEBHOOK_SECRET_ARN"]), DynamoSecretVersions(os.environ["BATCHES_TABLE"])
)
# Powertools idempotency for POST /content and POST /batches with an Idempotency-Key header.
_idempotency = IdempotencyConfig(
    event_key_jmespath="key", payload_validation_jmespath="body", expires_after_seconds=24 * 60 * 60
)
_idempotency_store = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])
# Only under `sam local`, which skips JWT authorizers (and sets AWS_SAM_LOCAL in its containers); the URL
# comes from the template parameter LocalTokenIntrospectionUrl, empty when deployed.
_introspection_url = os.environ.get("LOCAL_TOKEN_INTROSPECTION_URL")
_on_sam_local = os.environ.get("AWS_SAM_LOCAL") == "true"
introspector = HttpTokenIntrospector(_introspection_url) if _introspection_url and _on_sam_local else None


MAX_USER_AGENT = 512


class UnauthenticatedError(Exception):
    """The authorizer let through a request without a subject: never trust a body for the owner."""


def _owner() -> str:
    event = app.current_event
    sub = caller_subject(event.request_context.authorizer.jwt_claim, event.headers.get("authorization"), introspector)
    if sub is None:
        raise UnauthenticatedError()
    return sub


def _caller() -> Caller:
    http = app.current_event.request_context.http
    # Kept for the audit trail, bounded: a header of kilobytes must not make the batch record too large.
    return Caller(_owner(), source_ip=http.source_ip, user_agent=(http.user_agent or "")[:MAX_USER_AGENT] or None)


def _json[ModelT: BaseModel](status: int, model: ModelT, headers: dict[str, str] | None = None) -> Response[ModelT]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model, headers=headers)


@idempotent_function(data_keyword_argument="request", persistence_store=_idempotency_store, config=_idempotency)
def _first_reply(request: dict[str, Any], produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return produce()


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


def _once(route: str, key: str | None, produce: Callable[[], BaseModel]) -> dict[str, Any]:
    """The reply to a request; with an Idempotency-Key header, the first reply to that key and body."""

    def reply() -> dict[str, Any]:
        return produce().model_dump(mode="json", by_alias=True)

    if key is None:
        return reply()
    # Keys are per route and per owner: two users may use the same key without meeting.
    request = {"key": f"{route}#{_owner()}#{key}", "body": app.current_event.json_body}
    first: dict[str, Any] = _first_reply(request=request, produce=reply)
    return first


@app.post("/content", responses=documented(201, "The created content item", ContentOut, 400, 401, 409, 413, 415, 503))
def create_content(
    fields: Annotated[ContentFields, Body()], idempotency_key: IdempotencyKey = None
) -> Response[ContentOut]:
    created = _once("content", idempotency_key, lambda: ContentOut.of(contents.create(_owner(), fields)))
    content = ContentOut.model_validate(created)
    return _json(201, content, {"Location": f"/content/{content.content_id}"})


@app.get("/content/<content_id>", responses=documented(200, "The content item", ContentOut, 401, 404, 503))
def get_content(content_id: str) -> Response[ContentOut]:
    return _json(200, ContentOut.of(contents.get(_owner(), content_id)))


@app.post("/batches", responses=documented(202, "The accepted batch", BatchOut, 400, 401, 409, 413, 415, 429, 503))
def submit_batch(
    request: Annotated[BatchRequest, Body()], idempotency_key: IdempotencyKey = None
) -> Response[BatchOut]:
    def submit() -> BatchOut:
        options = request.options.to_domain()
        upload_id = request.source.upload_id if request.source else None
        submission = Submission(_caller(), request.operation, request.params, request.items, options, upload_id)
        batch = batches.submit(submission)
        metrics.add_metric(name="BatchesSubmitted", unit="Count", value=1)
        return BatchOut.of(batch)

    return _accepted(BatchOut.model_validate(_once("batches", idempotency_key, submit)))


@app.post(
    "/uploads",
    responses=documented(
        201, "Where to PUT a manifest (JSON Lines or CSV, one item per line)", UploadOut, 400, 401, 503
    ),
)
def create_upload(request: Annotated[UploadRequest, Body()]) -> Response[UploadOut]:
    ticket = uploads.create(_owner(), request.format)
    # The URL is a credential for 15 minutes: no cache keeps it.
    return _json(201, UploadOut.of(ticket), {"Cache-Control": "no-store"})


@app.get("/batches", responses=documented(200, "The caller's batches, newest first", BatchesPageOut, 400, 401, 503))
def list_batches(
    status: Annotated[BatchStatus | None, Query()] = None,
    operation: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(alias="nextToken")] = None,
) -> Response[BatchesPageOut]:
    owner = _owner()
    page = batches.list_batches(owner, BatchFilter(status, operation), limit, decode_list_token(owner, next_token))
    out = BatchesPageOut(
        batches=[BatchOut.of(b) for b in page.batches], next_token=encode_list_token(owner, page.cursor)
    )
    return _json(200, out)


@app.post(
    "/batches/<batch_id>/cancel", responses=documented(202, "The batch, cancelling", BatchOut, 401, 404, 409, 503)
)
def cancel_batch(batch_id: str) -> Response[BatchOut]:
    return _json(202, BatchOut.of(batches.cancel(_owner(), batch_id)))


@app.post(
    "/batches/<batch_id>/retry",
    responses=documented(202, "A new batch of the items to retry", BatchOut, 401, 404, 409, 429, 503),
)
def retry_batch(batch_id: str) -> Response[BatchOut]:
    return _accepted(BatchOut.of(batches.retry(_caller(), batch_id)))


@app.get(
    "/batches/<batch_id>/report",
    responses=documented(303, "See Other: the report's presigned link (15 minutes)", None, 400, 401, 404, 409, 503),
)
def get_report(
    batch_id: str,
    format: Annotated[ReportFormat, Query()] = ReportFormat.CSV,  # noqa: A002 - the query parameter's name
    scope: Annotated[ReportScope, Query()] = ReportScope.ALL,
) -> Response[Any]:
    url = reports.link(_owner(), batch_id, scope, format)
    # No body: an empty one labelled application/json would not be JSON.
    return Response(status_code=303, headers={"Location": url})


def _accepted(batch: BatchOut) -> Response[BatchOut]:
    return _json(202, batch, {"Location": f"/batches/{batch.batch_id}"})


@app.get("/batches/<batch_id>", responses=documented(200, "The batch", BatchOut, 401, 404, 503))
def get_batch(batch_id: str) -> Response[BatchOut]:
    return _json(200, BatchOut.of(batches.get(_owner(), batch_id)))


@app.get(
    "/batches/<batch_id>/items",
    responses=documented(200, "A page of the batch's items", ItemsPageOut, 400, 401, 404, 503),
)
def list_items(
    batch_id: str,
    status: Annotated[ItemStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next_token: Annotated[str | None, Query(alias="nextToken")] = None,
) -> Response[ItemsPageOut]:
    page = batches.list_items(_owner(), batch_id, status, limit, decode_token(next_token))
    return _json(200, ItemsPageOut(items=[ItemOut.of(i) for i in page.items], next_token=encode_token(page.next_index)))


def _secret(secret: str) -> Response[WebhookSecretOut]:
    # A secret is never stored by a cache on the way.
    return _json(200, WebhookSecretOut(secret=secret), {"Cache-Control": "no-store"})


@app.get(
    "/webhooks/secret",
    responses=documented(200, "The caller's secret that signs their webhooks", WebhookSecretOut, 401, 503),
)
def get_webhook_secret() -> Response[WebhookSecretOut]:
    return _secret(webhook_secrets.current(_owner()))


@app.post(
    "/webhooks/secret/rotate",
    responses=documented(200, "A new secret; the old one signs nothing from now on", WebhookSecretOut, 401, 503),
)
def rotate_webhook_secret() -> Response[WebhookSecretOut]:
    return _secret(webhook_secrets.rotate(_owner()))


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[Any]:
    """The API's description, generated from the routes and their models (no token needed)."""
    schema = app.get_openapi_json_schema(
        title="batchops",
        version="1.0.0",
        description="Batch operations over content: submit, watch, cancel, retry, download reports.",
        security_schemes={"jwt": HTTPBearer(bearerFormat="JWT")},
        security=[{"jwt": []}],
    )
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=finished_description(schema))


# Domain errors -> HTTP, in this one place.
@app.exception_handler(RequestValidationError)
def _invalid_request_shape(e: RequestValidationError) -> Response[Any]:
    return error_response(400, "validation_error", "the request is invalid", request_problems(e.errors()))


@app.exception_handler(UnicodeDecodeError)
def _not_utf8(_: UnicodeDecodeError) -> Response[Any]:
    problem = FieldProblem("body", "not a valid request body: not UTF-8 text")
    return error_response(400, "validation_error", "the request is invalid", [problem])


@app.exception_handler(InvalidRequestError)
def _invalid_request(e: InvalidRequestError) -> Response[Any]:
    return error_response(400, e.code, "the request is invalid", e.problems)


@app.exception_handler(UnauthenticatedError)
def _unauthenticated(_: UnauthenticatedError) -> Response[Any]:
    return error_response(401, "unauthorized", "a valid token with a subject is required")


@app.exception_handler(NotFoundError)
def _not_found(e: NotFoundError) -> Response[Any]:
    return error_response(404, e.code, str(e))


@app.exception_handler(ConflictError)
def _conflict(e: ConflictError) -> Response[Any]:
    return error_response(409, e.code, str(e))


@app.exception_handler(IdempotencyValidationError)
def _key_reused(_: IdempotencyValidationError) -> Response[Any]:
    return error_response(409, "idempotency_key_reused", "this Idempotency-Key was used with a different body")


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _key_in_progress(_: IdempotencyAlreadyInProgressError) -> Response[Any]:
    return error_response(409, "request_in_progress", "a request with this Idempotency-Key is still in progress")


@app.exception_handler(RateLimitedError)
def _rate_limited(e: RateLimitedError) -> Response[Any]:
    response = error_response(429, e.code, str(e))
    response.headers["Retry-After"] = str(e.retry_after_seconds)
    return response


@app.exception_handler([WorkflowStartError, WorkflowStopError, StoreUnavailableError])
def _unavailable(e: BatchOpsError) -> Response[Any]:
    logger.exception("dependency unavailable")
    return error_response(503, e.code, "the service is temporarily unavailable; retry later")


@app.exception_handler(InfrastructureError)
def _internal(e: InfrastructureError) -> Response[Any]:
    # A refused AWS call (access denied, a missing resource): a bug or misconfiguration, never the caller's.
    logger.exception("dependency refused a call")
    return error_response(500, e.code, "internal error")


@app.not_found
def _no_route(_: Exception) -> Response[Any]:
    return error_response(404, "route_not_found", f"no route {app.current_event.http_method} {app.current_event.path}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _idempotency.register_lambda_context(context)
    # Checked before routing: Powertools would read form bodies as models, and answer others in its own shape.
    problem = media_type_problem(event.get("headers") or {}, bool(event.get("body")))
    if problem is not None:
        refused = error_response(415, "unsupported_media_type", problem)
        return ResponseBuilder[APIGatewayProxyEventV2](refused).build(APIGatewayProxyEventV2(event))
    return app.resolve(event, context)
