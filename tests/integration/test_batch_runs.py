"""Full batches: HTTP -> API Lambda -> DynamoDB -> Step Functions Map -> item Lambda -> aggregator."""

import json
import time
from datetime import datetime
from typing import Any

import pytest

from local.stack import OfflineStack
from tests.integration.client import Api, assert_counts_add_up
from tests.integration.conftest import CONTRACT_TIMEOUT_SECONDS, SlowContents
from tests.integration.contract_server import Behaviour, ContractServer

PRICE, REMOVE, METADATA = "content.update-price", "content.remove", "content.update-metadata"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_price_batch_updates_every_item_syncs_downstream_and_reports_each(user: Api, contract: ContractServer) -> None:
    ids = user.create_contents(30, price=100)
    submitted = user.submit(PRICE, ids, {"newPrice": 250}, maxConcurrency=8)
    assert submitted["status"] == "pending"
    assert submitted["totalItems"] == 30
    # The execution's ARN is there from the first read, for operators to look it up at once.
    assert submitted["executionArn"].endswith(f":execution:batchops-test-batches:{submitted['batchId']}")
    assert user.batch(submitted["batchId"])["executionArn"] == submitted["executionArn"]

    batch = user.wait_final(submitted["batchId"])

    assert batch["status"] == "completed"
    assert (batch["succeededItems"], batch["failedItems"], batch["skippedItems"]) == (30, 0, 0)
    assert batch["progressPercent"] == 100.0
    assert batch["successRate"] == 100.0
    assert batch["params"] == {"newPrice": 250}
    assert batch["options"] == {
        "maxConcurrency": 8,
        "chunkSize": 100,
        "continueOnError": True,
        "failureThresholdPercent": None,
        "scheduledFor": None,
        "callbackUrl": None,
    }
    assert batch["error"] is None
    assert _time(batch["createdAt"]) <= _time(batch["startedAt"]) <= _time(batch["completedAt"])
    assert batch["durationMs"] > 0
    assert batch["avgItemDurationMs"] > 0
    items = user.items(batch["batchId"])
    assert [i["index"] for i in items] == list(range(30))
    assert [i["itemId"] for i in items] == ids
    for item in items:
        assert item["status"] == "succeeded"
        assert item["message"] == "Price updated to 250"
        assert item["output"]["previousPrice"] == 100
        assert item["output"]["txId"].startswith("0x")
        assert item["warnings"] == [] and item["error"] is None
    content = user.request("GET", f"/content/{ids[0]}").body
    assert content["price"] == 250
    assert content["lastBatchId"] == batch["batchId"]
    assert _time(content["updatedAt"]) > _time(content["createdAt"])
    assert contract.calls_for(ids[0]) == [(f"/content/{ids[0]}/price", {"price": 250})]


def test_remove_batch_removes_items_and_an_already_removed_item_succeeds_saying_so(
    user: Api, contract: ContractServer
) -> None:
    ids = user.create_contents(3)
    user.wait_final(user.submit(REMOVE, ids[:1], {"reason": "first pass"})["batchId"])

    batch = user.wait_final(user.submit(REMOVE, ids, {"reason": "catalogue clean-up"})["batchId"])

    assert (batch["status"], batch["succeededItems"]) == ("completed", 3)
    messages = [i["message"] for i in user.items(batch["batchId"])]
    assert messages == ["Content was already removed", "Content removed", "Content removed"]
    first, second = (user.request("GET", f"/content/{i}").body for i in ids[:2])
    assert first["removalReason"] == "first pass"
    assert second["isRemoved"] is True
    assert second["removalReason"] == "catalogue clean-up"
    assert second["removedAt"] is not None
    assert contract.calls_for(ids[1]) == [(f"/content/{ids[1]}/remove", {"reason": "catalogue clean-up"})]
    # The already removed item was not synced a second time.
    assert len(contract.calls_for(ids[0])) == 1


def test_metadata_batch_changes_only_the_named_fields_and_stays_off_chain(user: Api, contract: ContractServer) -> None:
    ids = user.create_contents(2, description="old", price=70)
    batch = user.wait_final(
        user.submit(METADATA, ids, {"updates": {"description": "new", "refundable": True, "refundWindowDays": 30}})[
            "batchId"
        ]
    )
    assert (batch["status"], batch["succeededItems"]) == ("completed", 2)
    item = user.items(batch["batchId"])[0]
    assert item["output"]["updated"] == ["description", "refundWindowDays", "refundable"]
    content = user.request("GET", f"/content/{ids[0]}").body
    assert (content["description"], content["refundable"], content["refundWindowDays"]) == ("new", True, 30)
    assert (content["title"], content["price"]) == ("Item 0", 70)
    assert contract.calls_for(ids[0]) == []


def test_missing_and_other_owners_items_fail_not_found_and_are_left_untouched(user: Api, other_user: Api) -> None:
    mine = user.create_contents(2, price=5)
    theirs = other_user.create_content(price=5)["contentId"]

    batch = user.wait_final(user.submit(PRICE, [mine[0], "no-such-item", theirs, mine[1]], {"newPrice": 9})["batchId"])

    assert batch["status"] == "completed"
    assert (batch["succeededItems"], batch["failedItems"]) == (2, 2)
    assert batch["successRate"] == 50.0
    by_id = {i["itemId"]: i for i in user.items(batch["batchId"])}
    for failed in ("no-such-item", theirs):
        assert by_id[failed]["status"] == "failed"
        assert by_id[failed]["error"] == {"code": "not_found", "message": "Content not found"}
    assert other_user.request("GET", f"/content/{theirs}").body["price"] == 5
    assert other_user.request("GET", f"/content/{theirs}").body["lastBatchId"] is None


def test_price_update_of_removed_content_fails_content_removed(user: Api) -> None:
    content_id = user.create_content(price=1)["contentId"]
    user.wait_final(user.submit(REMOVE, [content_id], {"reason": "gone"})["batchId"])
    batch = user.wait_final(user.submit(PRICE, [content_id], {"newPrice": 2})["batchId"])
    item = user.items(batch["batchId"])[0]
    assert (item["status"], item["error"]["code"]) == ("failed", "content_removed")
    assert user.request("GET", f"/content/{content_id}").body["price"] == 1


def test_downstream_failures_keep_items_succeeded_off_chain_with_a_warning(user: Api, contract: ContractServer) -> None:
    ok, rejected, slow, garbled = user.create_contents(4, price=1)
    contract.behave(rejected, Behaviour(status=500, body={"error": "boom"}))
    contract.behave(slow, Behaviour(delay_seconds=CONTRACT_TIMEOUT_SECONDS + 1))
    contract.behave(garbled, Behaviour(body=["not", "an", "object"]))

    batch = user.wait_final(user.submit(PRICE, [ok, rejected, slow, garbled], {"newPrice": 3})["batchId"])

    assert (batch["status"], batch["succeededItems"], batch["failedItems"]) == ("completed", 4, 0)
    items = {i["itemId"]: i for i in user.items(batch["batchId"])}
    assert items[ok]["warnings"] == []
    assert "txId" in items[ok]["output"]
    for off_chain, reason in ((rejected, "HTTP 500"), (slow, "timed out"), (garbled, "JSON object")):
        item = items[off_chain]
        assert item["status"] == "succeeded"
        assert item["message"] == "Price updated to 3 (off-chain only)"
        assert [w["code"] for w in item["warnings"]] == ["contract_sync_failed"]
        assert reason in item["warnings"][0]["message"]
        assert "txId" not in item["output"]
        assert user.request("GET", f"/content/{off_chain}").body["price"] == 3


def test_continue_on_error_false_stops_after_the_first_failure_and_skips_the_rest(user: Api) -> None:
    ids = user.create_contents(6, price=1)
    submitted = user.submit(PRICE, ["missing-first", *ids], {"newPrice": 2}, maxConcurrency=1, continueOnError=False)

    batch = user.wait_final(submitted["batchId"])

    assert batch["status"] == "failed"
    assert batch["error"]["code"] == "stopped_on_error"
    assert (batch["processedItems"], batch["failedItems"], batch["skippedItems"]) == (1, 1, 6)
    assert_counts_add_up(batch)
    skipped = user.items(batch["batchId"], status="skipped")
    assert [i["itemId"] for i in skipped] == ids
    assert all("continueOnError is false" in i["message"] for i in skipped)
    assert all(user.request("GET", f"/content/{i}").body["price"] == 1 for i in ids)


def test_item_failures_with_continue_on_error_leave_the_batch_completed(user: Api) -> None:
    ids = user.create_contents(2)
    batch = user.wait_final(user.submit(PRICE, ["missing", *ids], {"newPrice": 2}, maxConcurrency=1)["batchId"])
    assert (batch["status"], batch["failedItems"], batch["succeededItems"], batch["skippedItems"]) == (
        "completed",
        1,
        2,
        0,
    )
    assert_counts_add_up(batch)


def test_progress_moves_while_the_batch_runs(user: Api, slow_contents: SlowContents) -> None:
    # About 3 s of work: the counts move with each write of results (at least once a second).
    ids = slow_contents(12, 0.5)
    batch_id = user.submit(PRICE, ids, {"newPrice": 5}, maxConcurrency=2)["batchId"]

    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        batch = user.batch(batch_id)
        seen.add((batch["status"], batch["processedItems"]))
        if batch["status"] == "completed":
            break
        time.sleep(0.05)
    partial = {processed for status, processed in seen if status == "processing" and 0 < processed < 12}
    assert len(partial) >= 2, seen
    assert ("completed", 12) in seen


@pytest.mark.parametrize(
    ("items", "options", "chunks_at_once"),
    [
        (16, {"maxConcurrency": 4}, 1),  # one chunk of 16 items on 4 threads
        # 10 = 2 threads x 5 chunks at once; chunks of 2 (not 3), so that no thread idles in a chunk.
        (30, {"maxConcurrency": 10, "chunkSize": 3}, 5),
    ],
)
def test_exactly_max_concurrency_items_run_at_once_downstream_whatever_the_chunk_size(
    items: int,
    options: dict[str, int],
    chunks_at_once: int,
    user: Api,
    stack: OfflineStack,
    contract: ContractServer,
    slow_contents: SlowContents,
) -> None:
    # Calls of 1 s: the chunks' child workflows start a few tenths of a second apart on a loaded machine, and
    # their items must still overlap downstream.
    ids = slow_contents(items, 1.0)
    stack.invoker.reset_stats()
    contract.take_peak()

    batch = user.wait_final(user.submit(PRICE, ids, {"newPrice": 5}, **options)["batchId"])

    assert batch["succeededItems"] == items
    assert contract.take_peak() == options["maxConcurrency"]
    assert stack.invoker.peak_concurrency("ProcessChunkFunction") == chunks_at_once


def test_another_owners_batch_and_its_items_read_as_not_found(user: Api, other_user: Api) -> None:
    batch_id = user.submit(PRICE, ["x"], {"newPrice": 1})["batchId"]
    for path in (f"/batches/{batch_id}", f"/batches/{batch_id}/items"):
        assert other_user.request("GET", path).status == 404
    assert user.request("GET", "/batches/no-such-batch").status == 404


def test_items_page_in_index_order_and_filter_by_status(user: Api) -> None:
    ids = user.create_contents(5)
    items = [ids[0], "m1", ids[1], "m2", ids[2], "m3", ids[3], ids[4]]
    batch_id = user.wait_final(user.submit(PRICE, items, {"newPrice": 1})["batchId"])["batchId"]

    first = user.request("GET", f"/batches/{batch_id}/items?limit=3")
    assert [i["index"] for i in first.body["items"]] == [0, 1, 2]
    assert first.body["nextToken"]
    assert [i["itemId"] for i in user.items(batch_id, limit=3)] == items
    failed = user.items(batch_id, status="failed", limit=2)
    assert [i["itemId"] for i in failed] == ["m1", "m2", "m3"]
    assert [i["index"] for i in user.items(batch_id, status="succeeded")] == [0, 2, 4, 6, 7]


def _ended_execution(stack: OfflineStack, execution_arn: str) -> dict[str, Any]:
    """The execution once it ended: the batch is final first, the execution a moment later."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + 30
    while (execution := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution never ended"
        time.sleep(0.1)
    described: dict[str, Any] = execution
    return described


def test_execution_is_named_by_batch_id_and_its_input_holds_no_item_data(user: Api, stack: OfflineStack) -> None:
    content_id = user.create_content()["contentId"]
    batch = user.wait_final(user.submit(REMOVE, [content_id], {"reason": "private reason"})["batchId"])
    sfn = stack.client("stepfunctions")

    execution = _ended_execution(stack, batch["executionArn"])

    assert execution["name"] == batch["batchId"]
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["input"]) == {"batchId": batch["batchId"], "scheduledFor": None}
    history = json.dumps(sfn.get_execution_history(executionArn=batch["executionArn"])["events"], default=str)
    assert "private reason" not in history
    assert content_id not in history


def test_a_failed_batch_fails_its_execution_for_operators(user: Api, stack: OfflineStack) -> None:
    batch = user.wait_final(user.submit(PRICE, ["missing"], {"newPrice": 1}, continueOnError=False)["batchId"])
    execution = _ended_execution(stack, batch["executionArn"])
    assert (batch["status"], execution["status"], execution["error"]) == ("failed", "FAILED", "BatchFailed")
