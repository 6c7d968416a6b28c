"""What a request body must be before any model looks at it: a JSON object, in UTF-8, within the limits of
batchops.json_text. Every refusal is a json.JSONDecodeError, which the HTTP layer turns into a 400 naming `body`.
"""

import json
from collections.abc import Mapping
from typing import Any

from batchops.json_text import parse_json

_JSON_TYPES = ("application/json",)


def parse_json_object(text: str) -> dict[str, Any]:
    """The body as a JSON object; json.JSONDecodeError (naming the problem) for anything else."""
    value = parse_json(text)
    if not isinstance(value, dict):
        raise json.JSONDecodeError(f"must be a JSON object, not {type(value).__name__}", text, 0)
    return value


def media_type_problem(headers: Mapping[str, str], has_body: bool) -> str | None:
    """Why a request's body cannot be read as JSON from its Content-Type, or None (absent counts as JSON)."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if not has_body or not content_type.strip():
        return None
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    charset = next((p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")), "utf-8")
    if (media_type in _JSON_TYPES or media_type.endswith("+json")) and charset == "utf-8":
        return None
    return f"Content-Type must be application/json (UTF-8), not {content_type[:100]!r}"
