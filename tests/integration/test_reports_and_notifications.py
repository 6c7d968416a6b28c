"""What a final batch leaves behind: reports in S3, an EventBridge event, a signed webhook, an expiry date."""

import csv
import hashlib
import hmac
import io
import json
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import pytest

from local.stack import OfflineStack
from tests.integration.client import Api
from tests.integration.conftest import SlowContents
from tests.integration.contract_server import Behaviour, Call, ContractServer

PRICE = "content.update-price"


def _download(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as reply:  # noqa: S310 - the presigned local URL
        return str(reply.read().decode())


def _poll[T](probe: Callable[[], T | None], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"nothing after {timeout}s")


def test_a_final_batch_has_csv_and_jsonl_reports_behind_presigned_links(user: Api) -> None:
    good = user.create_contents(2)
    batch_id = user.submit(PRICE, [good[0], "missing", good[1]], {"newPrice": 5})["batchId"]
    user.wait_final(batch_id)

    reply = user.report_redirect(batch_id, "")
    assert reply.status == 303, reply
    rows = list(csv.DictReader(io.StringIO(_download(reply.headers["location"]))))
    assert [(r["index"], r["itemId"], r["status"], r["errorCode"]) for r in rows] == [
        ("0", good[0], "succeeded", ""),
        ("1", "missing", "failed", "not_found"),
        ("2", good[1], "succeeded", ""),
    ]
    assert list(rows[0]) == ["index", "itemId", "status", "errorCode", "message", "warnings", "durationMs", "output"]
    # Each row's output (JSON) maps the item to what it did.
    assert json.loads(rows[0]["output"]) == {"contentId": good[0], "previousPrice": 100, "price": 5, "txId": ANY}
    assert rows[1]["output"] == ""

    failed = user.report_redirect(batch_id, "?format=jsonl&scope=failed")
    lines = [json.loads(line) for line in _download(failed.headers["location"]).splitlines()]
    assert [(line["itemId"], line["errorCode"], line["warnings"]) for line in lines] == [("missing", "not_found", [])]


def test_a_report_is_refused_before_the_batch_is_final_and_to_other_owners(
    user: Api, other_user: Api, slow_contents: SlowContents
) -> None:
    batch_id = user.submit(PRICE, slow_contents(3, 0.3), {"newPrice": 5}, maxConcurrency=1)["batchId"]
    early = user.report_redirect(batch_id, "")
    assert (early.status, early.body["error"]["code"]) == (409, "batch_not_finished")
    user.wait_final(batch_id)
    assert other_user.report_redirect(batch_id, "").status == 404
    assert user.report_redirect(batch_id, "?format=xml").status == 400


@pytest.fixture(scope="module")
def bus_messages(stack: OfflineStack) -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """Every event of the batchops bus lands in a queue; returns a reader of one batch's events."""
    sqs, events = stack.client("sqs"), stack.client("events")
    queue_url = sqs.create_queue(QueueName=f"bus-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.output("EventBusName")
    events.put_rule(Name="all-batches", EventBusName=bus, EventPattern=json.dumps({"source": ["batchops"]}))
    events.put_targets(Rule="all-batches", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    seen: list[dict[str, Any]] = []

    def of_batch(batch_id: str) -> list[dict[str, Any]]:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            seen.append(json.loads(message["Body"]))
        return [e for e in seen if e["detail"]["batchId"] == batch_id]

    yield of_batch
    events.remove_targets(Rule="all-batches", EventBusName=bus, Ids=["queue"])
    events.delete_rule(Name="all-batches", EventBusName=bus)


def test_every_final_status_is_announced_on_the_event_bus(
    user: Api, bus_messages: Callable[[str], list[dict[str, Any]]]
) -> None:
    done = user.submit(PRICE, [user.create_content()["contentId"], "missing"], {"newPrice": 5})["batchId"]
    stopped = user.submit(PRICE, ["missing", "also-missing"], {"newPrice": 5}, continueOnError=False)["batchId"]
    for batch_id in (done, stopped):
        user.wait_final(batch_id)

    completed = _poll(lambda: bus_messages(done) or None)
    assert [(e["source"], e["detail-type"]) for e in completed] == [("batchops", "Batch Completed")]
    assert completed[0]["detail"] | {"owner": None} == {
        "batchId": done,
        "owner": None,
        "operation": PRICE,
        "status": "completed",
        "totalItems": 2,
        "succeededItems": 1,
        "failedItems": 1,
        "skippedItems": 0,
        "cancelledItems": 0,
        "error": None,
    }
    assert completed[0]["detail"]["owner"] == user.owner
    failed = _poll(lambda: bus_messages(stopped) or None)
    assert failed[0]["detail-type"] == "Batch Failed"
    assert failed[0]["detail"]["error"]["code"] == "stopped_on_error"


def _webhook_secret(user: Api) -> str:
    reply = user.request("GET", "/webhooks/secret")
    assert reply.status == 200 and reply.headers["cache-control"] == "no-store", reply
    secret: str = reply.body["secret"]
    return secret


def _signature_is_valid(secret: str, call: Call) -> bool:
    """What the README's receiver does: recompute the HMAC over "<t>.<raw body>", refuse old timestamps."""
    fields = dict(part.split("=", 1) for part in call.headers.get("x-batchops-signature", "").split(","))
    timestamp, received = fields.get("t", ""), fields.get("v1", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + call.raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received, expected)


def _table_record(stack: OfflineStack, batch_id: str) -> dict[str, Any]:
    key = {"pk": {"S": f"BATCH#{batch_id}"}, "sk": {"S": "META"}}
    item: dict[str, Any] = stack.client("dynamodb").get_item(TableName=stack.output("BatchesTableName"), Key=key)[
        "Item"
    ]
    return item


def test_the_callback_gets_a_signed_post_retried_until_it_answers(
    user: Api, stack: OfflineStack, contract: ContractServer
) -> None:
    hook = f"hook-{uuid.uuid4().hex[:8]}"
    contract.behave(hook, Behaviour(status=500), times=2)
    callback = f"{contract.url}/hooks/{hook}"
    batch_id = user.submit(PRICE, [user.create_content()["contentId"]], {"newPrice": 5}, callbackUrl=callback)[
        "batchId"
    ]
    assert user.wait_final(batch_id)["status"] == "completed"

    calls = _poll(lambda: contract.raw_calls_for(hook) if len(contract.raw_calls_for(hook)) >= 3 else None)
    secret = _webhook_secret(user)
    assert all(_signature_is_valid(secret, call) for call in calls)
    assert calls[-1].body["batchId"] == batch_id
    assert calls[-1].body["status"] == "completed"
    assert calls[-1].headers["content-type"] == "application/json"
    # Delivered exactly once, and marked so: the safety net and later retries send nothing more.
    _poll(lambda: _table_record(stack, batch_id).get("notified"), timeout=10)
    time.sleep(1)
    assert len(contract.raw_calls_for(hook)) == 3  # two 500s, then delivered
    assert _table_record(stack, batch_id)["notified"] == {"BOOL": True}


def test_a_callback_that_keeps_failing_never_changes_the_batch(user: Api, contract: ContractServer) -> None:
    hook = f"hook-{uuid.uuid4().hex[:8]}"
    contract.behave(hook, Behaviour(status=503))
    callback = f"{contract.url}/hooks/{hook}"
    batch_id = user.submit(PRICE, ["missing"], {"newPrice": 5}, callbackUrl=callback)["batchId"]
    batch = user.wait_final(batch_id)
    _poll(lambda: contract.raw_calls_for(hook) if len(contract.raw_calls_for(hook)) >= 2 else None)
    assert user.batch(batch_id) == batch
    assert batch["status"] == "completed"


def test_a_scheduled_batch_cancelled_before_it_starts_still_calls_back(
    user: Api, stack: OfflineStack, contract: ContractServer
) -> None:
    hook = f"hook-{uuid.uuid4().hex[:8]}"
    at = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    options = {"scheduledFor": at, "callbackUrl": f"{contract.url}/hooks/{hook}"}
    batch_id = user.submit(PRICE, ["a", "b"], {"newPrice": 5}, **options)["batchId"]
    assert user.request("POST", f"/batches/{batch_id}/cancel").status == 202

    call = _poll(lambda: next(iter(contract.raw_calls_for(hook)), None))
    assert call.body["status"] == "cancelled" and call.body["cancelledItems"] == 2
    assert _signature_is_valid(_webhook_secret(user), call)


def test_each_owner_signs_with_their_own_secret_and_a_rotation_applies_to_the_next_webhook(
    user: Api, other_user: Api, contract: ContractServer
) -> None:
    first = _webhook_secret(user)
    assert first.startswith("whsec_") and _webhook_secret(user) == first
    assert _webhook_secret(other_user) != first
    rotated = user.request("POST", "/webhooks/secret/rotate")
    assert rotated.status == 200 and rotated.headers["cache-control"] == "no-store"
    assert rotated.body["secret"] not in (first, _webhook_secret(other_user))
    assert _webhook_secret(user) == rotated.body["secret"]

    hook = f"hook-{uuid.uuid4().hex[:8]}"
    batch_id = user.submit(PRICE, ["missing"], {"newPrice": 5}, callbackUrl=f"{contract.url}/hooks/{hook}")["batchId"]
    user.wait_final(batch_id)
    call = _poll(lambda: next(iter(contract.raw_calls_for(hook)), None))
    assert _signature_is_valid(rotated.body["secret"], call)
    assert not _signature_is_valid(first, call) and not _signature_is_valid(_webhook_secret(other_user), call)


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://2130706433/hook",
        "https://0x7f.1/hook",
        "https://user:password@hooks.example.com/hook",
        "http://hooks.example.com/hook",
        "ftp://hooks.example.com/hook",
    ],
)
def test_a_callback_url_to_a_private_or_internal_host_or_with_credentials_is_refused_and_nothing_is_written(
    url: str, user: Api, count_records: Callable[[str], int]
) -> None:
    before = count_records("BatchesTableName")
    reply = user.request(
        "POST",
        "/batches",
        {"operation": PRICE, "items": ["x"], "params": {"newPrice": 1}, "options": {"callbackUrl": url}},
    )
    assert reply.status == 400, reply
    assert [d["field"] for d in reply.body["error"]["details"]] == ["options.callbackUrl"]
    assert "password" not in json.dumps(reply.body)
    assert count_records("BatchesTableName") == before


def test_final_records_expire_after_the_retention_period_and_carry_the_audit_trail(
    user: Api, stack: OfflineStack
) -> None:
    batch_id = user.submit(PRICE, ["x", "y"], {"newPrice": 5})["batchId"]
    batch = user.wait_final(batch_id)

    def expiring_records() -> list[dict[str, Any]] | None:
        db, table = stack.client("dynamodb"), stack.output("BatchesTableName")
        records: list[dict[str, Any]] = [
            record
            for pk in (f"BATCH#{batch_id}", f"BATCH#{batch_id}#C0000000")  # the batch and chunk 0's results
            for record in db.query(
                TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
            )["Items"]
        ]
        return records if all("expiresAt" in r for r in records) else None

    # Set right after the final status, with the event.
    records = _poll(expiring_records, timeout=10)
    completed = datetime.fromisoformat(batch["completedAt"])
    expected = int((completed + timedelta(days=90)).timestamp())
    assert sorted(r["sk"]["S"] for r in records) == ["CHUNK#0000000", "META", "R#0000000"]
    assert all(abs(int(r["expiresAt"]["N"]) - expected) <= 1 for r in records)
    meta = next(r for r in records if r["sk"]["S"] == "META")
    assert meta["sourceIp"]["S"] == "127.0.0.1"
    assert meta["userAgent"]["S"].startswith("Python-urllib")
    rules = stack.client("s3").get_bucket_lifecycle_configuration(Bucket=stack.output("ReportsBucketName"))["Rules"]
    assert [(r["Expiration"]["Days"], r["Status"]) for r in rules] == [(90, "Enabled")]


def test_logs_never_carry_item_bodies_or_params(user: Api, capfd: pytest.CaptureFixture[str]) -> None:
    content_id = user.create_content(title="Private title 7f3a")["contentId"]
    capfd.readouterr()
    batch_id = user.submit("content.remove", [content_id, "missing"], {"reason": "private reason 7f3a"})["batchId"]
    user.wait_final(batch_id)
    user.request("POST", "/batches", {"operation": "content.remove", "items": ["x"], "params": {"reason": ""}})

    out, err = capfd.readouterr()
    assert "Items_failed" in out  # the handlers' output is captured here (their metrics, at least)
    assert "7f3a" not in out + err


def test_a_batch_past_its_expiry_is_gone_even_before_dynamodb_deletes_it(user: Api, stack: OfflineStack) -> None:
    batch_id = user.submit(PRICE, ["x"], {"newPrice": 5})["batchId"]
    user.wait_final(batch_id)
    db, table, key = (
        stack.client("dynamodb"),
        stack.output("BatchesTableName"),
        {
            "pk": {"S": f"BATCH#{batch_id}"},
            "sk": {"S": "META"},
        },
    )
    # Once the aggregator has set the real expiry (right after the final status), move it to the past.
    _poll(lambda: db.get_item(TableName=table, Key=key)["Item"].get("expiresAt"), timeout=10)
    db.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    assert user.request("GET", f"/batches/{batch_id}").status == 404
    assert user.request("GET", "/batches").body["batches"] == []


def test_a_cancel_is_no_error_in_the_logs_and_each_log_line_names_its_own_batch(
    user: Api, slow_contents: SlowContents, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    capfd.readouterr()
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = user.submit(PRICE, ["a"], {"newPrice": 5}, scheduledFor=at)["batchId"]
    # Counts move with each write of results (about once a second): enough items to cancel mid-run.
    running = user.submit(PRICE, slow_contents(20, 0.2), {"newPrice": 5}, maxConcurrency=1)["batchId"]
    user.wait_for(running, lambda b: b["processedItems"] >= 1)
    for batch_id in (scheduled, running):
        assert user.request("POST", f"/batches/{batch_id}/cancel").status == 202
        assert user.wait_final(batch_id)["status"] == "cancelled"
    time.sleep(1)  # the safety net's event for the stopped execution arrives asynchronously

    out = capfd.readouterr().out
    assert "Batches_cancelled" in out  # the handlers' output is captured here
    records = [json.loads(line) for line in out.splitlines() if line.startswith('{"level"')]
    assert [r for r in records if r["level"] == "ERROR"] == []
    assert {r["batch_id"] for r in records if "batch_id" in r} <= {scheduled, running}
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
