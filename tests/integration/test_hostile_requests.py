"""Requests an attacker or a careless client sends: each gets a clear 4xx in the API's error shape, and
nothing is written, counted or run on anyone else's behalf."""

import http.client
import json
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.gateway import MAX_BODY_BYTES
from local.stack import OfflineStack
from tests.integration.client import Api
from tests.integration.conftest import api_as

PRICE = "content.update-price"
Counter = Callable[[str], int]


def _hourly_slots_taken(stack: OfflineStack, owner: str) -> int:
    records = stack.client("dynamodb").query(
        TableName=stack.output("BatchesTableName"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RATE#{owner}"}},
    )["Items"]
    return sum(int(r["taken"]["N"]) for r in records)


def _assert_error(reply: Any, status: int, code: str, field: str | None = None) -> None:
    assert reply.status == status, reply
    error = reply.body["error"]
    assert error["code"] == code and isinstance(error["message"], str), reply.body
    if field is not None:
        assert field in [d["field"] for d in error["details"]], reply.body


def test_concurrent_submits_from_several_owners_each_run_as_their_submitter_only(stack: OfflineStack) -> None:
    owners = [api_as(stack, f"race-{n}-{uuid.uuid4().hex[:6]}") for n in range(5)]
    contents = {api.owner: api.create_contents(2, price=100) for api in owners}
    price_of = {api.owner: 10 + n for n, api in enumerate(owners)}

    def submit(job: tuple[Api, int]) -> tuple[str | None, dict[str, Any]]:
        api, n = job
        assert api.owner is not None
        body = {"operation": PRICE, "items": contents[api.owner], "params": {"newPrice": price_of[api.owner]}}
        reply = api.request("POST", "/batches", body, headers={"idempotency-key": f"race-{n}"})
        assert reply.status == 202, reply
        return api.owner, reply.body

    jobs = [(api, n) for api in owners for n in range(6)]  # 30 at once, 6 per owner
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        replies = list(pool.map(submit, jobs))

    for api in owners:
        mine = [body for owner, body in replies if owner == api.owner]
        assert len({b["batchId"] for b in mine}) == 6
        for body in mine:
            batch = api.wait_final(body["batchId"])  # a 404 here: recorded under someone else
            assert (batch["status"], batch["succeededItems"]) == ("completed", 2), batch
        listed = {b["batchId"] for b in api.request("GET", "/batches?limit=100").body["batches"]}
        assert listed == {b["batchId"] for b in mine}
        for content_id in contents[api.owner]:
            assert api.request("GET", f"/content/{content_id}").body["price"] == price_of[api.owner]
    # Every ApiFunction invocation had an environment to itself: the burst scaled out.
    assert stack.invoker.peak_concurrency("ApiFunction") > 1


@pytest.mark.parametrize(
    ("case", "raw", "content_type", "status", "code"),
    [
        ("a JSON array of batches", b'[{"operation": "content.remove"}, {}]', "application/json", 400, "body"),
        ("JSON nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "body"),
        ("JSON nested 40 deep", b'{"params": ' * 40 + b"{}" + b"}" * 40, "application/json", 400, "body"),
        ("an integer of 5,000 digits", b'{"items": [' + b"9" * 5000 + b"]}", "application/json", 400, "body"),
        ("NaN", b'{"params": {"newPrice": NaN}}', "application/json", 400, "body"),
        ("a float out of range", b'{"options": {"failureThresholdPercent": 1e999}}', "application/json", 400, "body"),
        ("invalid UTF-8", b'{"operation": "\xff\xfe"}', "application/json", 400, "body"),
        ("form-encoded", b"operation=content.remove&items=x", "application/x-www-form-urlencoded", 415, None),
        ("plain text", b'{"operation": "content.remove"}', "text/plain", 415, None),
        ("JSON in another charset", b'{"operation": "x"}', "application/json; charset=latin-1", 415, None),
    ],
)
def test_a_body_that_is_not_one_sane_json_object_is_refused_and_nothing_is_written(
    case: str, raw: bytes, content_type: str, status: int, code: str | None, user: Api, count_records: Counter
) -> None:
    before = count_records("BatchesTableName")
    reply = user.request("POST", "/batches", raw=raw, headers={"content-type": content_type})
    _assert_error(reply, status, "validation_error" if status == 400 else "unsupported_media_type", code)
    assert count_records("BatchesTableName") == before


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"failureThresholdPercent": True}, "options.failureThresholdPercent"),
        ({"failureThresholdPercent": "50"}, "options.failureThresholdPercent"),
        ({"scheduledFor": 1893456000}, "options.scheduledFor"),
        ({"scheduledFor": "1893456000"}, "options.scheduledFor"),
        ({"maxConcurrency": 5.0}, "options.maxConcurrency"),
        ({"continueOnError": 0}, "options.continueOnError"),
    ],
)
def test_options_of_a_loose_type_are_refused_not_coerced(
    options: dict[str, Any], field: str, user: Api, count_records: Counter
) -> None:
    before = count_records("BatchesTableName")
    body = {"operation": PRICE, "items": ["x"], "params": {"newPrice": 1}, "options": options}
    _assert_error(user.request("POST", "/batches", body), 400, "validation_error", field)
    assert count_records("BatchesTableName") == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/batches", {"operation": PRICE, "items": ["x"], "params": {"newPrice": 10**38}}, "params.newPrice"),
        ("/batches", {"operation": PRICE, "items": ["x"], "params": {"newPrice": 2**53}}, "params.newPrice"),
        ("/content", {"title": "t", "contentType": "article", "price": 10**38}, "price"),
    ],
)
def test_numbers_past_their_documented_bound_are_a_400_that_writes_and_counts_nothing(
    path: str, body: dict[str, Any], field: str, user: Api, stack: OfflineStack, count_records: Counter
) -> None:
    before = (count_records("BatchesTableName"), count_records("ContentTableName"))
    _assert_error(user.request("POST", path, body), 400, "validation_error", field)
    assert (count_records("BatchesTableName"), count_records("ContentTableName")) == before
    assert user.owner is not None and _hourly_slots_taken(stack, user.owner) == 0


def test_the_largest_price_is_accepted_and_read_back_exactly(user: Api) -> None:
    created = user.create_content(price=2**53 - 1)
    assert user.request("GET", f"/content/{created['contentId']}").body["price"] == 2**53 - 1


def test_concurrent_retries_create_one_batch_and_count_one_against_the_hourly_limit(
    user: Api, stack: OfflineStack
) -> None:
    batch_id = user.submit(PRICE, ["missing-1", "missing-2"], {"newPrice": 1})["batchId"]
    user.wait_final(batch_id)
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda _: user.request("POST", f"/batches/{batch_id}/retry"), range(6)))
    assert sorted(r.status for r in replies) == [202] + [409] * 5
    assert user.owner is not None and _hourly_slots_taken(stack, user.owner) == 2  # the batch and its one retry


@pytest.mark.parametrize("sub", ["   ", "\t", " padded", "x" * 10_000, "ctrl\x07char"])
def test_a_token_whose_subject_identifies_nobody_is_a_401(sub: str, stack: OfflineStack) -> None:
    reply = api_as(stack, sub).request("GET", "/batches")
    _assert_error(reply, 401, "unauthorized")


def _raw_exchange(stack: OfflineStack, request: bytes) -> bytes:
    url = urlsplit(stack.api_url)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("length", [b"abc", b"-5", b"1e3", b"99999999999999999999999"])
def test_a_bad_content_length_is_answered_400_and_the_connection_closed(length: bytes, stack: OfflineStack) -> None:
    answer = _raw_exchange(stack, b"POST /batches HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n")
    head = answer.split(b"\r\n", 1)[0]
    assert head == b"HTTP/1.1 400 Bad Request", answer
    assert b"connection: close" in answer.lower()


def test_a_body_over_10_mb_is_refused_with_a_413_before_any_function_runs(user: Api, stack: OfflineStack) -> None:
    calls = stack.invoker.calls("ApiFunction")
    url = urlsplit(stack.api_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    headers = {"content-type": "application/json", "authorization": f"Bearer {user.token}"}
    connection.putrequest("POST", "/batches")
    for name, value in {**headers, "content-length": str(MAX_BODY_BYTES + 1)}.items():
        connection.putheader(name, value)
    connection.endheaders()
    reply = connection.getresponse()
    assert (reply.status, json.loads(reply.read())) == (413, {"message": "Request Entity Too Large"})
    connection.close()
    assert stack.invoker.calls("ApiFunction") == calls


def test_thirty_connections_at_once_are_all_answered(user: Api) -> None:
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(lambda _: user.request("GET", "/batches").status, range(30)))
    assert statuses == [200] * 30
