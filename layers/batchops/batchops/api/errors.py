"""The one error body of the API: {"error": {"code", "message", "details": [{"field", "message"}]}}."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

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
