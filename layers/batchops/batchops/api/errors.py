"""The one error body of the API: {"error": {"code", "message", "details": [{"field", "message"}]}}."""

import json
from typing import Any, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel

from batchops.domain.errors import FieldProblem
from batchops.validation import problems_from_dicts

# Where Powertools says a value came from; the client only needs the field's own name.
_LOCATIONS = {"body", "query", "path", "header"}


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
    503: "A dependency is unavailable; retry later",
}
# The authorizer answers a missing or invalid token itself; the API answers a token without a usable subject.
_BODIES: dict[int, Any] = {401: GatewayMessage | ErrorBody, 413: GatewayMessage}
# Powertools' header type has no `required`, which OpenAPI has and a client relies on for these.
_HEADERS = {
    303: {"Location": {"description": "The URL to GET instead", "required": True, "schema": {"type": "string"}}},
    429: {
        "Retry-After": {
            "description": "Seconds until a new batch may be accepted",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}


def _headers(status: int) -> dict[str, OpenAPIResponseHeader]:
    return cast(dict[str, OpenAPIResponseHeader], _HEADERS.get(status, {}))


def documented(status: int, meaning: str, model: type[BaseModel] | None, *errors: int) -> dict[int, OpenAPIResponse]:
    """A route's replies for its OpenAPI description: its success (with the body's model) and its errors.

    A reply without a model is documented without a body (Powertools would describe it with the route's
    return type); the description drops the empty `content` it is given for that.
    """
    success: OpenAPIResponse = {"description": meaning, "content": {}}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    responses = {status: success}
    for error in errors:
        responses[error] = {
            "description": _MEANINGS[error],
            "content": {"application/json": {"model": _BODIES.get(error, ErrorBody)}},
        }
    for code, response in responses.items():
        if code in _HEADERS:
            response["headers"] = _headers(code)
    return responses


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
