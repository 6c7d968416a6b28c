"""What a request body must be before any model looks at it: a JSON object, in UTF-8, within sane limits.

Every refusal here is a json.JSONDecodeError, which the HTTP layer turns into a 400 naming `body`; no
oddity of the text (deep nesting, a 5,000-digit number, NaN) reaches the code behind as a crash.
"""

import json
from collections.abc import Mapping
from typing import Any

# DynamoDB stores documents nested at most 32 levels deep; no request of this API needs more.
MAX_DEPTH = 32
_JSON_TYPES = ("application/json",)


class _RefusedError(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _RefusedError(f"the number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise _RefusedError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    """How deeply containers nest in a parsed document (iterative: no recursion on hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in node)
    return deepest


def parse_json_object(text: str) -> dict[str, Any]:
    """The body as a JSON object; json.JSONDecodeError (naming the problem) for anything else."""
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except _RefusedError as e:
        raise json.JSONDecodeError(str(e), text, 0) from e
    except RecursionError as e:
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0) from e
    except ValueError as e:
        # Python refuses to convert integers of more than 4,300 digits.
        raise json.JSONDecodeError("a number has too many digits", text, 0) from e
    if _depth(value) > MAX_DEPTH:
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0)
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
