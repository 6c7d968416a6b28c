"""`sam validate`, `sam local invoke` of every sample event and `sam local start-api`, all offline."""

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from local.sam_local import SamLocalConfig
from local.stack import OfflineStack
from tests.conftest import EVENTS, SAMPLE_EVENTS, assert_sample_reply
from tests.sam.conftest import REGION, last_json, run_sam


def test_template_passes_sam_validate_with_lint() -> None:
    result = run_sam("validate", "--lint", "--region", REGION)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", SAMPLE_EVENTS)
def test_sam_local_invoke_of_each_sample_event_answers_from_the_local_stack(
    built_template: Path, sam_local: SamLocalConfig, name: str
) -> None:
    function = SAMPLE_EVENTS[name][0]
    result = run_sam(
        "local", "invoke", function, "-t", str(built_template), "-e", str(EVENTS / name), *sam_local.options()
    )
    # sam local invoke exits 0 even when the handler raised: the reply itself is what tells.
    assert result.returncode == 0, result.stderr
    assert_sample_reply(name, last_json(result.stdout))


def _request(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - local URL
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310 - local URL
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_start_api_runs_a_batch_to_completion_through_the_containerised_api(
    start_api: str, stack: OfflineStack
) -> None:
    assert stack.issuer is not None
    token = stack.issuer.issue("sam-user")
    status, content = _request(f"{start_api}/content", "POST", {"title": "t", "contentType": "a", "price": 1}, token)
    assert status == 201, content
    # The owner is the token's subject, verified by the local issuer: start-api has no JWT authorizer.
    assert content["owner"] == "sam-user"
    items = [content["contentId"], "not-there"]
    body = {"operation": "content.update-price", "items": items, "params": {"newPrice": 7}}
    status, batch = _request(f"{start_api}/batches", "POST", body, token)
    assert status == 202, batch

    deadline = time.monotonic() + 120
    while batch["status"] not in {"completed", "failed"} and time.monotonic() < deadline:
        time.sleep(0.5)
        status, batch = _request(f"{start_api}/batches/{batch['batchId']}", token=token)
        assert status == 200, batch
    assert (batch["status"], batch["succeededItems"], batch["failedItems"]) == ("completed", 1, 1)
    status, updated = _request(f"{start_api}/content/{content['contentId']}", token=token)
    assert (status, updated["price"]) == (200, 7)


def test_start_api_rejects_a_token_the_local_issuer_did_not_sign(start_api: str) -> None:
    status, reply = _request(f"{start_api}/batches/any", token="not-a-token")
    assert status == 401, reply
    assert reply["error"]["code"] == "unauthorized"


def test_task_functions_in_containers_read_a_real_batch_of_the_local_stack(
    built_template: Path, sam_local: SamLocalConfig, start_api: str, stack: OfflineStack
) -> None:
    # A finished batch: re-running its chunk or its aggregator is a no-op that reports what is stored.
    assert stack.issuer is not None
    token = stack.issuer.issue("sam-tasks")
    _, content = _request(f"{start_api}/content", "POST", {"title": "t", "contentType": "a", "price": 1}, token)
    body = {"operation": "content.remove", "items": [content["contentId"]], "params": {"reason": "gone"}}
    _, batch = _request(f"{start_api}/batches", "POST", body, token)
    deadline = time.monotonic() + 120
    while batch["status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.5)
        _, batch = _request(f"{start_api}/batches/{batch['batchId']}", token=token)
    assert batch["status"] == "completed", batch

    for function, name, expected in [
        ("ProcessChunkFunction", "process_chunk.json", {"next": "done"}),
        (
            "FinalizeBatchFunction",
            "finalize_batch.json",
            {"batchId": batch["batchId"], "status": "completed", "notify": False},
        ),
    ]:
        event = {**json.loads((EVENTS / name).read_text()), "batchId": batch["batchId"]}
        result = run_sam(
            "local",
            "invoke",
            function,
            "-t",
            str(built_template),
            "-e",
            "-",
            *sam_local.options(),
            stdin=json.dumps(event),
        )
        assert last_json(result.stdout) == expected, result.stderr
