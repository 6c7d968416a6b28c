"""One table of errors: the API's exception handlers and each route's documented replies both come from it."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from batchops.api.errors import ERRORS, UnauthenticatedError, documented, mapping_of
from batchops.domain.errors import (
    BatchFinishedError,
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
from tests.conftest import load_event
from tests.unit.function_environments import loaded

# One of each kind the table answers: a new entry without a sample here fails the first test.
SAMPLES: dict[type[Exception], Exception] = {
    RequestValidationError: RequestValidationError([{"type": "missing", "loc": ("body", "title"), "msg": "required"}]),
    UnicodeDecodeError: UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    InvalidRequestError: InvalidRequestError([FieldProblem("items[0]", "not an id")]),
    UnauthenticatedError: UnauthenticatedError(),
    NotFoundError: NotFoundError("batch b not found"),
    ConflictError: BatchFinishedError("batch b is already completed"),
    IdempotencyValidationError: IdempotencyValidationError(),
    IdempotencyAlreadyInProgressError: IdempotencyAlreadyInProgressError(),
    RateLimitedError: RateLimitedError(50, 120),
    WorkflowStartError: WorkflowStartError("StartExecution failed: ThrottlingException"),
    WorkflowStopError: WorkflowStopError("StopExecution failed: ThrottlingException"),
    StoreUnavailableError: StoreUnavailableError("reading the batch failed: ThrottlingException"),
    InfrastructureError: InfrastructureError("reading the batch failed: AccessDeniedException"),
}
# What the client reads for each: (status, code, message).
EXPECTED = {
    RequestValidationError: (400, "validation_error", "the request is invalid"),
    UnicodeDecodeError: (400, "validation_error", "the request is invalid"),
    InvalidRequestError: (400, "validation_error", "the request is invalid"),
    UnauthenticatedError: (401, "unauthorized", "a valid token with a subject is required"),
    NotFoundError: (404, "not_found", "batch b not found"),
    ConflictError: (409, "batch_finished", "batch b is already completed"),
    IdempotencyValidationError: (409, "idempotency_key_reused", "this Idempotency-Key was used with a different body"),
    IdempotencyAlreadyInProgressError: (
        409,
        "request_in_progress",
        "a request with this Idempotency-Key is still in progress",
    ),
    RateLimitedError: (429, "rate_limited", "at most 50 new batches per hour; retry in 120 s"),
    WorkflowStartError: (503, "start_failed", "the service is temporarily unavailable; retry later"),
    WorkflowStopError: (503, "stop_failed", "the service is temporarily unavailable; retry later"),
    StoreUnavailableError: (503, "store_unavailable", "the service is temporarily unavailable; retry later"),
    InfrastructureError: (500, "internal_error", "internal error"),
}


@dataclass
class _Context:
    function_name: str = "api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:111122223333:function:api"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture(scope="module")
def api() -> Iterator[ModuleType]:
    with loaded("ApiFunction") as handler:
        yield handler


def _reply(api: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    reply: dict[str, Any] = api.lambda_handler(event, _Context())
    return reply["statusCode"], reply["headers"], json.loads(reply["body"])


def test_every_entry_of_the_table_has_a_sample_here() -> None:
    assert set(SAMPLES) == set(ERRORS) == set(EXPECTED)


@pytest.mark.parametrize("error_type", list(ERRORS), ids=lambda t: t.__name__)
def test_the_api_answers_each_error_of_the_table_as_the_table_says(api: ModuleType, error_type: type) -> None:
    handler = api.app.exception_handler_manager.lookup_exception_handler(error_type)
    assert handler is not None, f"the API has no handler for {error_type.__name__}"
    response = handler(SAMPLES[error_type])
    status, code, message = EXPECTED[error_type]
    assert response.status_code == status == ERRORS[error_type].status
    assert (response.body["error"]["code"], response.body["error"]["message"]) == (code, message)


def test_details_and_headers_come_with_their_errors(api: ModuleType) -> None:
    lookup = api.app.exception_handler_manager.lookup_exception_handler
    invalid = lookup(InvalidRequestError)(SAMPLES[InvalidRequestError])
    assert invalid.body["error"]["details"] == [{"field": "items[0]", "message": "not an id"}]
    shape = lookup(RequestValidationError)(SAMPLES[RequestValidationError])
    assert shape.body["error"]["details"] == [{"field": "title", "message": "required"}]
    assert lookup(RateLimitedError)(SAMPLES[RateLimitedError]).headers["Retry-After"] == "120"


def test_a_request_without_a_subject_is_answered_through_the_routes_services(api: ModuleType) -> None:
    event = load_event("api_get_batch.json")
    del event["requestContext"]["authorizer"]
    status, _, body = _reply(api, event)
    assert (status, body["error"]["code"]) == (401, "unauthorized")


@pytest.mark.parametrize("error_type", list(ERRORS), ids=lambda t: t.__name__)
def test_a_route_documents_each_error_it_raises_with_the_tables_status(error_type: type[Exception]) -> None:
    mapping = ERRORS[error_type]
    responses = documented(200, "ok", None, error_type)
    assert mapping.status in responses
    assert set(responses[mapping.status].get("headers", {})) == {header.name for header in mapping.headers}


def test_an_error_is_documented_and_answered_as_its_nearest_entry_and_an_unknown_one_is_refused() -> None:
    class EmailInUseError(ConflictError):
        code = "email_in_use"

    assert mapping_of(EmailInUseError) is ERRORS[ConflictError]
    assert 409 in documented(201, "created", None, EmailInUseError)
    with pytest.raises(KeyError, match="LookupError"):
        documented(200, "ok", None, LookupError)


def test_the_description_documents_what_every_route_and_every_body_may_be_answered(api: ModuleType) -> None:
    status, _, spec = _reply(api, load_event("api_openapi.json"))
    assert status == 200
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            documented_statuses = set(operation["responses"])
            assert {"401", "500", "503"} <= documented_statuses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= documented_statuses, (method, path)
    limited = spec["paths"]["/batches"]["post"]["responses"]["429"]
    assert limited["headers"]["Retry-After"]["required"] is True
    assert "Location" in spec["paths"]["/batches/{batchId}/report"]["get"]["responses"]["303"]["headers"]
