"""The API's errors: one body, {"error": {"code", "message", "details": [{"field", "message"}]}}, and one table
of what each exception is answered with. The table drives both the exception handlers and the `responses`
each route documents, so what a route says it may answer and what it answers cannot drift apart."""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import BaseModel

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
from batchops.validation import problems_from_dicts

# Where Powertools says a value came from; the client only needs the field's own name.
_LOCATIONS = {"body", "query", "path", "header"}


class UnauthenticatedError(Exception):
    """The authorizer let through a request without a subject: never trust a body for the owner."""


def error_response(status: int, code: str, message: str, details: list[FieldProblem] | None = None) -> Response[Any]:
    body: dict[str, Any] = {
        "error": {
            "code": code,
            "message": message,
            "details": [{"field": p.field, "message": p.message} for p in details or []],
        }
    }
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def request_problems(errors: Any) -> list[FieldProblem]:
    """Powertools' validation errors, located by field: ('body', 'items', 2) -> 'items[2]'."""
    trimmed = []
    for e in errors:
        loc = tuple(e.get("loc", ()))
        if e.get("type") == "json_invalid":
            reason = (e.get("ctx") or {}).get("error", "not valid JSON")
            e = {**e, "msg": f"not a valid request body: {reason}"}
            loc = ("body",)
        elif len(loc) > 1 and loc[0] in _LOCATIONS:
            loc = loc[1:]
        trimmed.append({**e, "loc": loc})
    return problems_from_dicts(trimmed)


@dataclass(frozen=True)
class ErrorHeader:
    """A header an error reply carries: its value from the exception, and its description for OpenAPI."""

    name: str
    description: str
    schema: dict[str, Any]
    value: Callable[[Any], str]


@dataclass(frozen=True)
class ErrorMapping:
    """How one kind of exception is answered."""

    status: int
    # None: the exception's own code (a BatchOpsError names its own: batch_finished, upload_used...).
    code: str | None = None
    # None: the exception's own text, written for the caller; else this text (the exception's may hold internals).
    message: str | None = None
    details: Callable[[Any], list[FieldProblem]] | None = None
    headers: tuple[ErrorHeader, ...] = ()
    # A dependency failed: logged with its traceback under this message, as the operator's business.
    log: str | None = None

    def response(self, error: Exception) -> Response[Any]:
        code = self.code if self.code is not None else cast(BatchOpsError, error).code
        message = self.message if self.message is not None else str(error)
        response = error_response(self.status, code, message, self.details(error) if self.details else None)
        for header in self.headers:
            response.headers[header.name] = header.value(error)
        return response


_INVALID = "the request is invalid"
_UNAVAILABLE = ErrorMapping(
    503, message="the service is temporarily unavailable; retry later", log="dependency unavailable"
)

# Each exception is answered by the entry of its nearest class in this table (as Powertools looks handlers up).
ERRORS: Mapping[type[Exception], ErrorMapping] = {
    RequestValidationError: ErrorMapping(
        400, "validation_error", _INVALID, details=lambda e: request_problems(e.errors())
    ),
    UnicodeDecodeError: ErrorMapping(
        400,
        "validation_error",
        _INVALID,
        details=lambda _: [FieldProblem("body", "not a valid request body: not UTF-8 text")],
    ),
    InvalidRequestError: ErrorMapping(400, message=_INVALID, details=lambda e: e.problems),
    UnauthenticatedError: ErrorMapping(401, "unauthorized", "a valid token with a subject is required"),
    NotFoundError: ErrorMapping(404),
    ConflictError: ErrorMapping(409),
    IdempotencyValidationError: ErrorMapping(
        409, "idempotency_key_reused", "this Idempotency-Key was used with a different body"
    ),
    IdempotencyAlreadyInProgressError: ErrorMapping(
        409, "request_in_progress", "a request with this Idempotency-Key is still in progress"
    ),
    RateLimitedError: ErrorMapping(
        429,
        headers=(
            ErrorHeader(
                "Retry-After",
                "Seconds until a new batch may be accepted",
                {"type": "integer", "minimum": 0},
                lambda e: str(e.retry_after_seconds),
            ),
        ),
    ),
    WorkflowStartError: _UNAVAILABLE,
    WorkflowStopError: _UNAVAILABLE,
    StoreUnavailableError: _UNAVAILABLE,
    # A refused AWS call (access denied, a missing resource): a bug or misconfiguration, never the caller's.
    InfrastructureError: ErrorMapping(500, message="internal error", log="dependency refused a call"),
}


def mapping_of(error_type: type[Exception]) -> ErrorMapping:
    """The table's entry for an exception type: its own, or its nearest base class's."""
    for cls in error_type.__mro__:
        if cls in ERRORS:
            return ERRORS[cls]
    raise KeyError(f"no entry in ERRORS answers {error_type.__name__}")


def _answer(mapping: ErrorMapping, logger: Logger, error: Exception) -> Response[Any]:
    if mapping.log is not None:
        logger.exception(mapping.log)
    return mapping.response(error)


def answer_errors(app: ApiGatewayResolver, logger: Logger) -> None:
    """Registers an exception handler for every entry of ERRORS."""
    for error_type, mapping in ERRORS.items():
        app.exception_handler(error_type)(partial(_answer, mapping, logger))


class ProblemOut(BaseModel):
    field: str
    message: str


class ErrorDetailOut(BaseModel):
    code: str
    message: str
    details: list[ProblemOut]


class ErrorBody(BaseModel):
    error: ErrorDetailOut


class GatewayMessage(BaseModel):
    """API Gateway's own error body, for what it answers before any function runs."""

    message: str


_MEANINGS = {
    400: "Invalid request: details name each field and its problem; nothing was written",
    401: "Missing or invalid token",
    404: "No such resource for this caller",
    409: "Conflicts with the batch's state (see error.code)",
    413: "The body is larger than 10 MB (API Gateway's answer)",
    415: "The body is not JSON: send Content-Type: application/json",
    429: "Too many new batches this hour; see Retry-After",
    500: "A dependency refused a call: a bug or misconfiguration, not the request's fault",
    503: "A dependency is unavailable; retry later",
}
# The authorizer answers a missing or invalid token itself; the API answers a token without a usable subject.
_BODIES: dict[int, Any] = {401: GatewayMessage | ErrorBody, 413: GatewayMessage}
# Every route identifies its caller and calls AWS.
_EVERY_ROUTE: tuple[type[Exception], ...] = (UnauthenticatedError, StoreUnavailableError, InfrastructureError)
# A request with a body may be answered before any route runs: API Gateway refuses one over 10 MB, and the
# API's entry one that is not JSON; a body that is not UTF-8 is refused by the validation of the route.
_BODY_STATUSES = (413, 415)
_BODY_ERRORS: tuple[type[Exception], ...] = (UnicodeDecodeError,)
# OpenAPI's `required`, which Powertools' header type lacks, is what a client relies on for these.
_LOCATION = {"description": "The URL to GET instead", "required": True, "schema": {"type": "string"}}


def documented(
    status: int, meaning: str, model: type[BaseModel] | None, *raises: type[Exception], body: bool = False
) -> dict[int, OpenAPIResponse]:
    """A route's replies for its OpenAPI description: its success (with the body's model), and the status of
    each exception it raises as ERRORS answers it (with those every route may raise, and a body's).

    A reply without a model is documented without a body (Powertools would describe it with the route's
    return type); the description drops the empty `content` it is given for that.
    """
    success: OpenAPIResponse = {"description": meaning, "content": {}}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    if status == 303:
        success["headers"] = {"Location": cast(OpenAPIResponseHeader, _LOCATION)}
    mappings = [mapping_of(e) for e in (*_EVERY_ROUTE, *raises, *(_BODY_ERRORS if body else ()))]
    headers = {m.status: {h.name: _header_doc(h) for h in m.headers} for m in mappings if m.headers}
    statuses = {m.status for m in mappings} | set(_BODY_STATUSES if body else ())
    responses = {status: success}
    for error in sorted(statuses):
        responses[error] = {
            "description": _MEANINGS[error],
            "content": {"application/json": {"model": _BODIES.get(error, ErrorBody)}},
        }
        if error in headers:
            responses[error]["headers"] = headers[error]
    return responses


def _header_doc(header: ErrorHeader) -> OpenAPIResponseHeader:
    doc = {"description": header.description, "required": True, "schema": header.schema}
    return cast(OpenAPIResponseHeader, doc)


def finished_description(openapi_json: str) -> str:
    """Powertools' description, corrected: it documents a 422 for request validation, which this API answers
    with a 400 (ErrorBody); a reply documented without a body loses the empty `content` it was given."""
    document = json.loads(openapi_json)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            for response in responses.values():
                if response.get("content") == {}:
                    del response["content"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    return json.dumps(document)
