"""JSON text as this service reads it (request bodies, manifest lines): sane limits, no surprises.

Every refusal is a json.JSONDecodeError naming the problem; no oddity of the text (deep nesting, a
5,000-digit number, NaN) reaches the code behind as a crash.
"""

import json
from typing import Any

# DynamoDB stores documents nested at most 32 levels deep; no request of this API needs more.
MAX_DEPTH = 32


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


def parse_json(text: str) -> Any:
    """A JSON value within the limits; json.JSONDecodeError naming the problem for anything else."""
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
    return value
