"""Batches of any size: uploads, manifests checked before any work, chunks re-run after a crash, stopping a
batch of many chunks, and content.create (HTTP -> Lambda -> DynamoDB/S3 -> Distributed Map -> Lambda)."""

import csv
import io
import json
from collections import Counter
from typing import Any

import pytest

from local.stack import OfflineStack
from tests.integration.client import Api, assert_counts_add_up
from tests.integration.conftest import SlowContents
from tests.integration.contract_server import ContractServer

PRICE = "content.update-price"
CREATE = "content.create"


def _jsonl(values: list[Any]) -> bytes:
    return "".join(json.dumps(v) + "\n" for v in values).encode()


def _body(i: int) -> dict[str, Any]:
    return {"title": f"Loaded {i}", "contentType": "article", "price": 100 + i % 7}


# Two batches of 10,000 items, each given 300 s: the test's budget is theirs (pytest-timeout's default is 300 s).
@pytest.mark.timeout(660)
def test_ten_thousand_items_are_created_in_one_batch_then_repriced_from_an_upload(user: Api) -> None:
    created = user.wait_final(user.submit(CREATE, [_body(i) for i in range(10_000)], {})["batchId"], timeout=300)
    assert (created["status"], created["succeededItems"], created["totalItems"]) == ("completed", 10_000, 10_000)
    # Each item's output is the content it created: the report maps every item to its new id.
    rows = [json.loads(line) for line in user.report(created["batchId"], "?format=jsonl").splitlines()]
    assert [row["index"] for row in rows] == list(range(10_000))
    ids = [row["output"]["contentId"] for row in rows]
    assert len(set(ids)) == 10_000
    assert rows[42]["output"]["title"] == "Loaded 42" and rows[42]["itemId"] is None

    upload_id = user.upload(_jsonl(ids))
    reply = user.submit_upload(PRICE, upload_id, {"newPrice": 7}, maxConcurrency=50, chunkSize=500)
    assert reply.status == 202, reply
    assert reply.body["totalItems"] is None  # counted when the manifest is checked
    assert reply.body["source"] == {"uploadId": upload_id, "format": "jsonl"}
    batch = user.wait_final(reply.body["batchId"], timeout=300)

    assert (batch["status"], batch["succeededItems"], batch["totalItems"]) == ("completed", 10_000, 10_000)
    assert_counts_add_up(batch)
    for content_id in (ids[0], ids[5_000], ids[-1]):
        assert user.request("GET", f"/content/{content_id}").body["price"] == 7
    # Every item pages in index order, across chunks.
    page = user.request("GET", f"/batches/{batch['batchId']}/items?limit=1000").body
    second = user.request("GET", f"/batches/{batch['batchId']}/items?limit=1000&nextToken={page['nextToken']}").body
    assert [i["index"] for i in page["items"] + second["items"]] == list(range(2000))
    assert [i["itemId"] for i in second["items"][:3]] == ids[1000:1003]


def test_csv_manifests_name_the_fields_of_object_items_in_a_header_and_ids_one_per_line(user: Api) -> None:
    text = 'title,contentType,price,refundable\n"Hello, world",article,250,true\nSecond,video,0,\n'
    created = user.wait_final(user.submit_upload(CREATE, user.upload(text.encode(), "csv"), {}).body["batchId"])
    assert (created["status"], created["succeededItems"]) == ("completed", 2), created
    items = user.items(created["batchId"])
    first, second = (item["output"] for item in items)
    assert (first["title"], first["price"], first["refundable"]) == ("Hello, world", 250, True)
    assert (second["contentType"], second["refundable"]) == ("video", False)

    ids_csv = f"{first['contentId']}\r\n{second['contentId']}\r\n".encode()
    removed = user.submit_upload("content.remove", user.upload(ids_csv, "csv"), {"reason": "csv"}).body
    assert user.wait_final(removed["batchId"])["succeededItems"] == 2


def test_an_invalid_manifest_fails_the_batch_naming_each_bad_line_and_applies_no_item(user: Api) -> None:
    good = user.create_content(price=100)["contentId"]
    lines = [good, "bad id!", 42, good, *[f"ok-{i}" for i in range(5)]]
    data = _jsonl(lines) + b"{not json\n" + b"\xff\xfe\n"

    batch = user.wait_final(user.submit_upload(PRICE, user.upload(data), {"newPrice": 1}).body["batchId"])

    assert batch["status"] == "failed"
    error = batch["error"]
    assert error["code"] == "invalid_manifest"
    assert [d["field"] for d in error["details"]] == ["line 2", "line 3", "line 4", "line 10", "line 11"]
    assert "duplicate of line 1" in error["details"][2]["message"]
    assert "not UTF-8" in error["details"][4]["message"]
    assert batch["processedItems"] == 0
    assert user.request("GET", f"/content/{good}").body["price"] == 100


def test_a_manifest_with_more_than_a_hundred_problems_lists_the_first_hundred(user: Api) -> None:
    data = _jsonl([7] * 150)
    batch = user.wait_final(user.submit_upload(PRICE, user.upload(data), {"newPrice": 1}).body["batchId"])
    assert len(batch["error"]["details"]) == 100
    assert "150 problem(s)" in batch["error"]["message"]


def test_uploads_belong_to_their_owner_and_serve_one_batch(user: Api, other_user: Api) -> None:
    upload_id = user.upload(_jsonl(["a"]))
    assert other_user.submit_upload(PRICE, upload_id, {"newPrice": 1}).status == 404
    assert user.submit_upload(PRICE, "no-such-upload", {"newPrice": 1}).status == 404
    assert user.submit_upload(PRICE, upload_id, {"newPrice": 1}).status == 202
    again = user.submit_upload(PRICE, upload_id, {"newPrice": 1})
    assert (again.status, again.body["error"]["code"]) == (409, "upload_used")

    empty = user.request("POST", "/uploads", {"format": "jsonl"}).body
    early = user.submit_upload(PRICE, empty["uploadId"], {"newPrice": 1})
    assert early.status == 400
    assert early.body["error"]["details"][0]["field"] == "source.uploadId"
    assert user.request("POST", "/uploads", {"format": "xml"}).status == 400


def test_a_chunk_run_again_after_a_crash_applies_no_item_twice_and_loses_no_result(
    user: Api, stack: OfflineStack, contract: ContractServer, slow_contents: SlowContents
) -> None:
    ids = slow_contents(40, 0.2)
    # One chunk of 40 on 4 threads (chunkSize 80: 20 items per thread), 20 items a second: the first write of
    # results comes after 1 s, the crash at 1.5 s.
    stack.invoker.crash_during("ProcessChunkFunction", 1.5)
    stack.invoker.reset_stats()

    batch = user.wait_final(user.submit(PRICE, ids, {"newPrice": 3}, maxConcurrency=4, chunkSize=80)["batchId"])

    assert (batch["status"], batch["succeededItems"]) == ("completed", 40), batch
    assert stack.invoker.calls("ProcessChunkFunction") == 2
    items = user.items(batch["batchId"])
    assert sorted(i["index"] for i in items) == list(range(40))
    replayed = {i["itemId"] for i in items if "restart" in i["message"]}
    calls = Counter(content_id for content_id in ids for _ in contract.calls_for(content_id))
    for item in items:
        if item["itemId"] in replayed:
            # Applied before the crash, not recorded: its database change is not repeated, its sync is sent
            # again (or for the first time, if the crash came between the change and the sync).
            assert calls[item["itemId"]] in (1, 2)
        else:
            # Ran once: a second application would have seen the new price as the previous one.
            assert calls[item["itemId"]] == 1
            assert item["output"]["previousPrice"] == 100
    # The crash lost results not yet written (those since the last write, those in flight): run again, they
    # found their change applied.
    assert 0 < len(replayed) < 40
    assert all(user.request("GET", f"/content/{cid}").body["price"] == 3 for cid in ids)


def test_cancelling_a_batch_of_many_chunks_starts_at_most_max_concurrency_more_items(
    user: Api, contract: ContractServer, slow_contents: SlowContents
) -> None:
    ids = slow_contents(200, 0.1)
    batch_id = user.submit(PRICE, ids, {"newPrice": 5}, maxConcurrency=5, chunkSize=10)["batchId"]
    user.wait_for(batch_id, lambda b: b["processedItems"] >= 10)

    assert user.request("POST", f"/batches/{batch_id}/cancel").status == 202
    # The stop is recorded by the time the cancel answers.
    started_before = sum(len(contract.calls_for(cid)) for cid in ids)
    batch = user.wait_final(batch_id)

    started_after = sum(len(contract.calls_for(cid)) for cid in ids) - started_before
    # At most maxConcurrency items start once the stop is recorded; as many more may have started just before
    # it and reached the downstream service only after.
    assert started_after <= 2 * 5
    assert batch["status"] == "cancelled"
    # Every item that never reached the downstream service ends cancelled.
    assert batch["cancelledItems"] >= 200 - started_before - started_after > 100
    assert_counts_add_up(batch)
    assert Counter(i["status"] for i in user.items(batch_id))["cancelled"] == batch["cancelledItems"]


def test_continue_on_error_false_stops_every_chunk_after_the_first_failure(user: Api) -> None:
    ids = user.create_contents(30)
    items = [*ids[:10], "missing", *ids[10:]]
    batch = user.wait_final(user.submit(PRICE, items, {"newPrice": 2}, continueOnError=False, chunkSize=5)["batchId"])

    assert batch["status"] == "failed" and batch["error"]["code"] == "stopped_on_error"
    assert batch["failedItems"] == 1
    assert batch["skippedItems"] > 0
    assert_counts_add_up(batch)
    statuses = Counter(i["status"] for i in user.items(batch["batchId"]))
    assert statuses["skipped"] == batch["skippedItems"] and statuses["succeeded"] == batch["succeededItems"]


def test_a_batch_report_of_many_chunks_lists_never_started_items_from_the_manifest(user: Api) -> None:
    batch = user.wait_final(user.submit(PRICE, [f"x-{i}" for i in range(12)], {"newPrice": 1}, chunkSize=4)["batchId"])
    rows = list(csv.DictReader(io.StringIO(user.report(batch["batchId"]).decode())))
    assert [r["itemId"] for r in rows] == [f"x-{i}" for i in range(12)]
    assert {r["status"] for r in rows} == {"failed"}
