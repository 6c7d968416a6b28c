"""A bad batch request is a 400 naming the field and the problem, and nothing is written or started."""

from collections.abc import Callable
from typing import Any

import pytest

from local.stack import OfflineStack
from tests.integration.client import Api

PRICE = "content.update-price"
GOOD_ID = "c-1"


def _body(**overrides: Any) -> dict[str, Any]:
    return {"operation": PRICE, "items": [GOOD_ID], "params": {"newPrice": 10}, **overrides}


CASES: list[tuple[str, Any, str, str]] = [
    # (case, body, field named, words the message must contain)
    ("missing operation", {"items": [GOOD_ID], "params": {}}, "operation", "required"),
    ("unknown operation", _body(operation="content.explode"), "operation", "content.update-price"),
    ("no items", _body(items=[]), "items", "at least 1"),
    ("too many items", _body(items=[f"c-{i}" for i in range(10_001)]), "items", "at most 10000"),
    ("item not a string", _body(items=[GOOD_ID, 7]), "items[1]", "string"),
    ("item id with a slash", _body(items=["a/b"]), "items[0]", "pattern"),
    ("duplicate items", _body(items=["c-1", "c-2", "c-1", "c-2"]), "items[2]", "duplicate of items[0] (item id 'c-1')"),
    ("negative price", _body(params={"newPrice": -1}), "params.newPrice", "greater than or equal to 0"),
    ("price as text", _body(params={"newPrice": "10"}), "params.newPrice", "integer"),
    ("price missing", _body(params={}), "params.newPrice", "required"),
    ("unknown param", _body(params={"newPrice": 1, "currency": "EUR"}), "params.currency", "not permitted"),
    ("empty reason", _body(operation="content.remove", params={"reason": "  "}), "params.reason", "at least 1"),
    ("long reason", _body(operation="content.remove", params={"reason": "x" * 501}), "params.reason", "at most 500"),
    (
        "update of a field not allowed",
        _body(operation="content.update-metadata", params={"updates": {"price": 5}}),
        "params.updates",
        "'price' cannot be updated; allowed: title, description, contentType, tokenGating, refundable, "
        "refundWindowDays",
    ),
    (
        "empty updates",
        _body(operation="content.update-metadata", params={"updates": {}}),
        "params.updates",
        "at least one field",
    ),
    (
        "invalid value in updates",
        _body(operation="content.update-metadata", params={"updates": {"refundWindowDays": 366}}),
        "params.updates.refundWindowDays",
        "less than or equal to 365",
    ),
    ("concurrency too high", _body(options={"maxConcurrency": 1001}), "options.maxConcurrency", "1000"),
    ("chunk too big", _body(options={"chunkSize": 1001}), "options.chunkSize", "1000"),
    ("chunk size zero", _body(options={"chunkSize": 0}), "options.chunkSize", "1"),
    ("items and a source", _body(source={"uploadId": "u-1"}), "body", "exactly one of items and source"),
    ("neither items nor a source", {"operation": PRICE, "params": {"newPrice": 1}}, "body", "exactly one"),
    ("upload id not an id", _body(items=None, source={"uploadId": "../x"}), "source.uploadId", "pattern"),
    ("concurrency zero", _body(options={"maxConcurrency": 0}), "options.maxConcurrency", "1"),
    ("continueOnError not a bool", _body(options={"continueOnError": "no"}), "options.continueOnError", "boolean"),
    ("unknown top-level field", _body(owner="someone-else"), "owner", "not permitted"),
]


@pytest.mark.parametrize(("case", "body", "field", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_batch_request_is_rejected_naming_the_field_and_nothing_is_written(
    case: str,
    body: Any,
    field: str,
    words: str,
    user: Api,
    stack: OfflineStack,
    count_records: Callable[[str], int],
) -> None:
    sfn = stack.client("stepfunctions")
    executions_before = len(sfn.list_executions(stateMachineArn=stack.output("StateMachineArn"))["executions"])
    records_before = count_records("BatchesTableName")
    objects_before = count_records("ItemsBucketName")

    reply = user.request("POST", "/batches", body)

    assert reply.status == 400, reply.body
    error = reply.body["error"]
    assert error["code"] == "validation_error"
    problems = {d["field"]: d["message"] for d in error["details"]}
    assert field in problems, problems
    assert words in problems[field]
    assert count_records("BatchesTableName") == records_before
    assert count_records("ItemsBucketName") == objects_before
    assert len(sfn.list_executions(stateMachineArn=stack.output("StateMachineArn"))["executions"]) == executions_before


def test_malformed_batch_json_is_a_400_and_starts_nothing(user: Api, count_records: Callable[[str], int]) -> None:
    before = count_records("BatchesTableName")
    reply = user.request("POST", "/batches", raw=b"{not json")
    assert reply.status == 400
    assert reply.body["error"]["details"][0]["field"] == "body"
    assert count_records("BatchesTableName") == before


def test_bad_list_query_is_a_400_naming_the_parameter(user: Api) -> None:
    batch = user.submit(PRICE, [GOOD_ID], {"newPrice": 1})
    for query, field in (("limit=0", "limit"), ("status=weird", "status"), ("nextToken=forged", "nextToken")):
        reply = user.request("GET", f"/batches/{batch['batchId']}/items?{query}")
        assert reply.status == 400, query
        assert [d["field"] for d in reply.body["error"]["details"]] == [field]
