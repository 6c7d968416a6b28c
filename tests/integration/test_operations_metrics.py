"""What operators see of a batch: EMF metrics per submit, per chunk and per batch, with the operation as a
dimension."""

import json
import time
from typing import Any

import pytest

from local.stack import OfflineStack
from tests.integration.client import Api

PRICE = "content.update-price"


def _metric_lines(out: str, batch_id: str) -> list[dict[str, Any]]:
    lines = (json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"'))
    return [line for line in lines if line.get("batchId") == batch_id]


def _value(line: dict[str, Any], name: str) -> float:
    """A metric's value in an EMF line (Powertools writes each as a list of the values added)."""
    (value,) = line[name]
    return float(value)


def test_a_batch_emits_its_metrics_per_chunk_and_per_batch_by_operation(
    user: Api, capfd: pytest.CaptureFixture[str]
) -> None:
    ids = user.create_contents(6)
    capfd.readouterr()
    items = [*ids, "missing-1", "missing-2"]  # 2 of 8 fail: 25 %
    batch_id = user.submit(PRICE, items, {"newPrice": 9}, chunkSize=4, maxConcurrency=2)["batchId"]
    batch = user.wait_final(batch_id)
    assert batch["failedItems"] == 2

    # The aggregator prints its line as its invocation ends, just after the batch reads final.
    out, deadline = "", time.monotonic() + 10
    while not any("ItemFailureRate" in m for m in _metric_lines(out, batch_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
        out += capfd.readouterr().out
    # Other tests' batches may still be ending: each line names its batch (metadata, not a dimension).
    lines = _metric_lines(out, batch_id)
    # The API's, printed before it answered the submit.
    (submitted,) = (m for m in lines if "BatchesSubmitted" in m)
    assert _value(submitted, "BatchesSubmitted") == 1
    chunks = [m for m in lines if "ChunkSize" in m]
    assert sorted(_value(m, "ChunkSize") for m in chunks) == [4, 4], "one line per chunk, none per item"
    assert sum(_value(m, "Items_failed") for m in chunks) == 2
    final = next(m for m in lines if "ItemFailureRate" in m)
    rate, done, broke = (_value(final, n) for n in ("ItemFailureRate", "Batches_completed", "BatchesFailedBySystem"))
    assert (rate, done, broke) == (25.0, 1.0, 0.0)
    assert _value(final, "BatchDuration") > 0
    for line in [submitted, *chunks, final]:
        assert line["operation"] == PRICE
        assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "batchops"
        assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"], ["operation"]]


def test_a_batch_the_workflow_failed_itself_is_no_safety_net_run(
    user: Api, stack: OfflineStack, capfd: pytest.CaptureFixture[str]
) -> None:
    """A failed batch ends its execution in a Fail state: the safety net runs, finds it final, and must not
    count it (its alarm is for executions that ended past every Catch)."""
    finalizes = stack.invoker.calls("FinalizeBatchFunction")
    capfd.readouterr()
    batch_id = user.submit(PRICE, ["missing-1", "missing-2"], {"newPrice": 1}, continueOnError=False)["batchId"]
    assert user.wait_final(batch_id)["status"] == "failed"

    # Once by the state machine, once by the safety net (the execution ended FAILED).
    deadline = time.monotonic() + 30
    while stack.invoker.calls("FinalizeBatchFunction") < finalizes + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stack.invoker.calls("FinalizeBatchFunction") >= finalizes + 2, "the safety net did not run"
    lines = _metric_lines(capfd.readouterr().out, batch_id)
    final = next(m for m in lines if "Batches_failed" in m)
    assert (_value(final, "Batches_failed"), _value(final, "BatchesFailedBySystem")) == (1.0, 0.0)
    assert not [m for m in lines if "SafetyNetRuns" in m]
