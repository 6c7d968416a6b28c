"""Fixtures shared by every test suite: the sample events of events/ and what each one answers."""

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# The function each sample event is for, and its answer in a stack where the sample's ids do not exist:
# an HTTP status from the API, the domain error a task function raises (the sample batch is unknown), or
# fields of a task function's reply.
SAMPLE_EVENTS: dict[str, tuple[str, int | str | dict[str, Any]]] = {
    "api_create_content.json": ("ApiFunction", 201),
    "api_get_content.json": ("ApiFunction", 404),
    "api_submit_batch.json": ("ApiFunction", 202),
    "api_create_upload.json": ("ApiFunction", 201),
    "api_get_batch.json": ("ApiFunction", 404),
    "api_list_batch_items.json": ("ApiFunction", 404),
    "api_list_batches.json": ("ApiFunction", 200),
    "api_cancel_batch.json": ("ApiFunction", 404),
    "api_retry_batch.json": ("ApiFunction", 404),
    "api_get_report.json": ("ApiFunction", 404),
    "api_openapi.json": ("ApiFunction", 200),
    "api_get_webhook_secret.json": ("ApiFunction", 200),
    "prepare_batch.json": ("PrepareBatchFunction", "BatchNotFoundError"),
    "process_chunk.json": ("ProcessChunkFunction", "BatchNotFoundError"),
    "give_up_chunk.json": ("ProcessChunkFunction", "BatchNotFoundError"),
    "finalize_batch.json": ("FinalizeBatchFunction", "BatchNotFoundError"),
    "execution_ended.json": ("FinalizeBatchFunction", "BatchNotFoundError"),
    "notify_batch.json": ("NotifyBatchFunction", {"delivered": False}),
}


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, the same files `sam local invoke -e` uses."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def assert_sample_reply(name: str, reply: Any) -> None:
    """The reply of a function to a sample event is the one SAMPLE_EVENTS expects."""
    expected = SAMPLE_EVENTS[name][1]
    assert isinstance(reply, dict), reply
    if isinstance(expected, str):
        assert reply.get("errorType") == expected, reply
        return
    if isinstance(expected, dict):
        assert reply | expected == reply, reply
        return
    assert reply["statusCode"] == expected, reply
    assert reply["headers"]["Content-Type"] == "application/json"
    body = json.loads(reply["body"])
    # Error replies carry {"error": {"code", ...}}; a batch's own "error" is null while all is well.
    assert isinstance(body.get("error"), dict) == (expected >= 400)
