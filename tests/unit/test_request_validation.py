"""Operation params and items are validated by the registry, naming each bad field."""

import pytest

from batchops.domain.errors import InvalidRequestError
from batchops.operations.catalog import REGISTRY


def _problems(operation: str, params: object, items: list[object]) -> dict[str, str]:
    with pytest.raises(InvalidRequestError) as raised:
        REGISTRY.validate(operation, params, items)  # type: ignore[arg-type]
    return {p.field: p.message for p in raised.value.problems}


def test_params_and_items_problems_are_reported_together() -> None:
    problems = _problems("content.update-price", {"newPrice": -5}, ["ok", 3, "bad id!"])
    assert set(problems) == {"params.newPrice", "items[1]", "items[2]"}


def test_unknown_operation_lists_the_known_ones() -> None:
    problems = _problems("content.nope", {}, ["a"])
    assert problems["operation"].startswith("unknown operation 'content.nope'; known: content.create, content.remove")


def test_metadata_rejects_null_values_and_unknown_fields_naming_them() -> None:
    assert (
        "title must not be null"
        in _problems("content.update-metadata", {"updates": {"title": None}}, ["a"])["params.updates"]
    )
    message = _problems("content.update-metadata", {"updates": {"owner": "x", "price": 1}}, ["a"])["params.updates"]
    assert message.startswith("field(s) 'owner', 'price' cannot be updated; allowed: title,")
    # Field names are camelCase on the wire; the Python spelling is just another unknown field.
    message = _problems("content.update-metadata", {"updates": {"content_type": "video"}}, ["a"])["params.updates"]
    assert message.startswith("field(s) 'content_type' cannot be updated; allowed: title,")


def test_valid_request_keeps_params_in_camel_case_and_only_what_was_given() -> None:
    request = REGISTRY.validate("content.update-metadata", {"updates": {"refundWindowDays": 7}}, ["a", "b"])
    assert request.params == {"updates": {"refundWindowDays": 7}}
    assert [r.item_id for r in request.items] == ["a", "b"]
