"""Batches: submit, list, read, cancel, retry, their items and their reports."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from batchops.api.errors import documented
from batchops.api.idempotency import IdempotencyKey
from batchops.api.routing import api_metrics, caller, json_reply, new_router, once, owner, services
from batchops.api.schemas import (
    BatchesPageOut,
    BatchOut,
    BatchRequest,
    ItemOut,
    ItemsPageOut,
    ReportLinkOut,
    decode_list_token,
    decode_token,
    encode_list_token,
    encode_token,
)
from batchops.domain.batches import Submission
from batchops.domain.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    WorkflowStartError,
    WorkflowStopError,
)
from batchops.domain.models import BatchFilter, BatchStatus, ItemStatus
from batchops.domain.report_links import LINK_LIFETIME_SECONDS
from batchops.domain.reports import ReportFormat, ReportScope
from batchops.metric_names import Metric

router = new_router()
# Named as the README and the template name it; Powertools would describe the parameter as `batch_id`.
BatchId = Annotated[str, Path(alias="batchId")]


@router.post(
    "/batches",
    responses=documented(
        202,
        "The accepted batch",
        BatchOut,
        RequestValidationError,
        InvalidRequestError,
        NotFoundError,  # the upload named as its source
        ConflictError,
        IdempotencyValidationError,
        IdempotencyAlreadyInProgressError,
        RateLimitedError,
        WorkflowStartError,
        body=True,
    ),
)
def submit_batch(
    request: Annotated[BatchRequest, Body()], idempotency_key: IdempotencyKey = None
) -> Response[BatchOut]:
    def submit() -> BatchOut:
        options = request.options.to_domain()
        upload_id = request.source.upload_id if request.source else None
        submission = Submission(caller(router), request.operation, request.params, request.items, options, upload_id)
        batch = services(router).batches.submit(submission)
        metrics = api_metrics()
        metrics.add_dimensions(operation=request.operation)
        # Metadata, not a dimension, as the other functions' lines: a line leads to its batch.
        metrics.add_metadata(key="batchId", value=batch.batch_id)
        metrics.add_metric(name=Metric.BATCHES_SUBMITTED, unit="Count", value=1)
        return BatchOut.of(batch)

    return _accepted(BatchOut.model_validate(once(router, "batches", idempotency_key, submit)))


@router.get(
    "/batches",
    responses=documented(
        200, "The caller's batches, newest first", BatchesPageOut, RequestValidationError, InvalidRequestError
    ),
)
def list_batches(
    status: Annotated[BatchStatus | None, Query()] = None,
    operation: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(alias="nextToken")] = None,
) -> Response[BatchesPageOut]:
    who = owner(router)
    filters = BatchFilter(status, operation)
    page = services(router).batches.list_batches(who, filters, limit, decode_list_token(who, next_token))
    out = BatchesPageOut(batches=[BatchOut.of(b) for b in page.batches], next_token=encode_list_token(who, page.cursor))
    return json_reply(200, out)


@router.post(
    "/batches/<batchId>/cancel",
    responses=documented(202, "The batch, cancelling", BatchOut, NotFoundError, ConflictError, WorkflowStopError),
)
def cancel_batch(batch_id: BatchId) -> Response[BatchOut]:
    return json_reply(202, BatchOut.of(services(router).batches.cancel(owner(router), batch_id)))


@router.post(
    "/batches/<batchId>/retry",
    responses=documented(
        202,
        "A new batch of the items to retry",
        BatchOut,
        NotFoundError,
        ConflictError,
        RateLimitedError,
        WorkflowStartError,
    ),
)
def retry_batch(batch_id: BatchId) -> Response[BatchOut]:
    return _accepted(BatchOut.of(services(router).batches.retry(caller(router), batch_id)))


@router.get(
    "/batches/<batchId>/report",
    responses={
        **documented(
            303,
            "See Other: the report's presigned link (15 minutes)",
            None,
            RequestValidationError,
            NotFoundError,
            ConflictError,
        ),
        200: documented(200, "With redirect=false: the presigned link itself", ReportLinkOut)[200],
    },
)
def get_report(
    batch_id: BatchId,
    format: Annotated[ReportFormat, Query()] = ReportFormat.CSV,  # noqa: A002 - the query parameter's name
    scope: Annotated[ReportScope, Query()] = ReportScope.ALL,
    redirect: Annotated[bool, Query()] = True,
) -> Response[Any]:
    url = services(router).reports.link(owner(router), batch_id, scope, format)
    if not redirect:
        # For a browser page (the dashboard): a script cannot read the 303's target, another origin (the bucket),
        # so it takes the link as JSON and navigates to it. The link is a credential for 15 minutes: not cached.
        link = ReportLinkOut(url=url, expires_in=LINK_LIFETIME_SECONDS)
        return json_reply(200, link, {"Cache-Control": "no-store"})
    # No body: an empty one labelled application/json would not be JSON.
    return Response(status_code=303, headers={"Location": url})


def _accepted(batch: BatchOut) -> Response[BatchOut]:
    return json_reply(202, batch, {"Location": f"/batches/{batch.batch_id}"})


@router.get("/batches/<batchId>", responses=documented(200, "The batch", BatchOut, NotFoundError))
def get_batch(batch_id: BatchId) -> Response[BatchOut]:
    return json_reply(200, BatchOut.of(services(router).batches.get(owner(router), batch_id)))


@router.get(
    "/batches/<batchId>/items",
    responses=documented(
        200, "A page of the batch's items", ItemsPageOut, RequestValidationError, InvalidRequestError, NotFoundError
    ),
)
def list_items(
    batch_id: BatchId,
    status: Annotated[ItemStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next_token: Annotated[str | None, Query(alias="nextToken")] = None,
) -> Response[ItemsPageOut]:
    page = services(router).batches.list_items(owner(router), batch_id, status, limit, decode_token(next_token))
    return json_reply(
        200, ItemsPageOut(items=[ItemOut.of(i) for i in page.items], next_token=encode_token(page.next_index))
    )
