"""The one error body of the API: {"error": {"code", "message", "details": [{"field", "message"}]}}."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
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


_MEANINGS = {
    400: "Invalid request: details name each field and its problem; nothing was written",
    401: "Missing or invalid token",
    404: "No such resource for this caller",
    409: "Conflicts with the batch's state (see error.code)",
    429: "Too many new batches this hour; see Retry-After",
    503: "A dependency is unavailable; retry later",
}


def documented(status: int, meaning: str, model: type[BaseModel] | None, *errors: int) -> dict[int, OpenAPIResponse]:
    """A route's replies for its OpenAPI description: its success (with the body's model) and its errors."""
    success: OpenAPIResponse = {"description": meaning}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    responses = {status: success}
    for error in errors:
        responses[error] = {"description": _MEANINGS[error]}
        if error != 401:  # the HTTP API's authorizer answers those itself: {"message": "Unauthorized"}
            responses[error]["content"] = {"application/json": {"model": ErrorBody}}
    return responses


def without_framework_422(openapi_json: str) -> str:
    """Powertools documents a 422 for request validation; this API answers those with a 400 (ErrorBody)."""
    document = json.loads(openapi_json)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    return json.dumps(document)
