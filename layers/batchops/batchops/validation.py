"""Turning pydantic's errors into field problems a client can act on."""

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from batchops.domain.errors import FieldProblem


def field_path(loc: Iterable[Any]) -> str:
    """('params', 'updates', 'price') -> 'params.updates.price'; ('items', 3) -> 'items[3]'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def problems_from(error: ValidationError, prefix: Sequence[str | int] = ()) -> list[FieldProblem]:
    return problems_from_dicts(error.errors(), prefix)


def problems_from_dicts(errors: Iterable[Any], prefix: Sequence[str | int] = ()) -> list[FieldProblem]:
    return [FieldProblem(field_path([*prefix, *e["loc"]]), _message(e)) for e in errors]


def _message(error: Any) -> str:
    # pydantic prefixes messages of custom validators with "Value error, "; clients need only the reason.
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")
