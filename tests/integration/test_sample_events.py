"""The events in events/ (the ones `sam local invoke -e` uses) drive each deployed function."""

import json
import time
from typing import Any

import pytest

from local.stack import OfflineStack
from tests.conftest import EVENTS, SAMPLE_EVENTS, assert_sample_reply, load_event


def _invoke(stack: OfflineStack, function: str, event: dict[str, Any]) -> tuple[bool, Any]:
    assert stack.deployment is not None
    name = stack.deployment.functions[function].name
    reply = stack.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return bool(reply.get("FunctionError")), json.loads(reply["Payload"].read())


def test_every_sample_event_is_exercised() -> None:
    assert {p.name for p in EVENTS.glob("*.json")} == set(SAMPLE_EVENTS)


@pytest.mark.parametrize("name", SAMPLE_EVENTS)
def test_sample_event_gets_the_reply_its_function_gives_in_a_fresh_stack(stack: OfflineStack, name: str) -> None:
    function, expected = SAMPLE_EVENTS[name]
    failed, reply = _invoke(stack, function, load_event(name))
    # A task function's domain error is a Lambda function error; an API error is an HTTP reply.
    assert failed == isinstance(expected, str), reply
    assert_sample_reply(name, reply)


def test_submit_sample_event_starts_a_batch_that_finishes(stack: OfflineStack) -> None:
    _, reply = _invoke(stack, "ApiFunction", load_event("api_submit_batch.json"))
    batch_id = json.loads(reply["body"])["batchId"]
    get = load_event("api_get_batch.json")
    get["pathParameters"] = {"batchId": batch_id}
    get["rawPath"] = get["requestContext"]["http"]["path"] = f"/batches/{batch_id}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = json.loads(_invoke(stack, "ApiFunction", get)[1]["body"])
        if body["status"] == "completed":
            break
        time.sleep(0.1)
    # The sample's content ids do not exist here: both items fail, and the batch still completes.
    assert (body["status"], body["failedItems"]) == ("completed", 2)
