"""The events in events/ (the ones `sam local invoke -e` uses) drive each deployed function."""

import json
import time
from typing import Any

import pytest

from local.stack import OfflineStack
from tests.conftest import EVENTS, load_event


def _invoke(stack: OfflineStack, function: str, event: dict[str, Any]) -> tuple[bool, Any]:
    assert stack.deployment is not None
    name = stack.deployment.functions[function].name
    reply = stack.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return bool(reply.get("FunctionError")), json.loads(reply["Payload"].read())


API_EVENTS = {
    "api_create_content.json": 201,
    "api_get_content.json": 404,  # the sample id does not exist in a fresh stack
    "api_submit_batch.json": 202,
    "api_get_batch.json": 404,
    "api_list_batch_items.json": 404,
}


def test_every_sample_event_is_exercised() -> None:
    task_events = {"process_item.json", "record_item_failure.json", "finalize_batch.json", "execution_ended.json"}
    assert {p.name for p in EVENTS.glob("*.json")} == set(API_EVENTS) | task_events


@pytest.mark.parametrize(("name", "status"), API_EVENTS.items())
def test_api_sample_event_gets_an_http_api_reply(stack: OfflineStack, name: str, status: int) -> None:
    failed, reply = _invoke(stack, "ApiFunction", load_event(name))
    assert not failed, reply
    assert reply["statusCode"] == status, reply
    assert reply["headers"]["Content-Type"] == "application/json"
    body = json.loads(reply["body"])
    # Error replies carry {"error": {"code", ...}}; a batch's own "error" is null while all is well.
    assert isinstance(body.get("error"), dict) == (status >= 400)


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


@pytest.mark.parametrize(
    ("function", "name"),
    [
        ("ProcessItemFunction", "process_item.json"),
        ("RecordItemFailureFunction", "record_item_failure.json"),
        ("FinalizeBatchFunction", "finalize_batch.json"),
        ("FinalizeBatchFunction", "execution_ended.json"),
    ],
)
def test_task_sample_event_reaches_the_domain(stack: OfflineStack, function: str, name: str) -> None:
    failed, reply = _invoke(stack, function, load_event(name))
    # The sample batch does not exist in a fresh stack: the event parsed, and the domain said so.
    assert failed
    assert reply["errorType"] == "BatchNotFoundError"
