"""A batch's life after submit: listing, cancelling, retrying, scheduling, the failure threshold, the rate limit."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tests.integration.client import Api, assert_counts_add_up
from tests.integration.conftest import MAX_BATCHES_PER_HOUR, SlowContents

PRICE = "content.update-price"


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_batches_are_listed_newest_first_page_by_page_and_filtered(user: Api) -> None:
    content_id = user.create_content()["contentId"]
    ids = [user.submit(PRICE, [content_id], {"newPrice": n})["batchId"] for n in (1, 2, 3)]
    removal = user.submit("content.remove", ["missing"], {"reason": "x"})["batchId"]
    for batch_id in [*ids, removal]:
        user.wait_final(batch_id)

    first = user.request("GET", "/batches?limit=3")
    assert first.status == 200, first
    assert [b["batchId"] for b in first.body["batches"]] == [removal, ids[2], ids[1]]
    second = user.request("GET", f"/batches?limit=3&nextToken={first.body['nextToken']}")
    assert [b["batchId"] for b in second.body["batches"]] == [ids[0]]
    assert second.body["nextToken"] is None

    prices = user.request("GET", f"/batches?operation={PRICE}&status=completed").body["batches"]
    assert [b["batchId"] for b in prices] == ids[::-1]
    assert user.request("GET", "/batches?operation=content.remove").body["batches"][0]["batchId"] == removal


def test_a_list_token_from_another_owner_or_a_forged_one_is_rejected(user: Api, other_user: Api) -> None:
    content_id = user.create_content()["contentId"]
    for n in (1, 2):
        user.wait_final(user.submit(PRICE, [content_id], {"newPrice": n})["batchId"])
    token = user.request("GET", "/batches?limit=1").body["nextToken"]
    assert token

    for reply in (
        other_user.request("GET", f"/batches?nextToken={token}"),
        user.request("GET", "/batches?nextToken=bm90LWEtdG9rZW4"),
        user.request("GET", "/batches?limit=0"),
        user.request("GET", "/batches?status=sleeping"),
    ):
        assert reply.status == 400, reply
    assert other_user.request("GET", "/batches").body == {"batches": [], "nextToken": None}


def test_cancel_lets_running_items_finish_and_cancels_the_rest(user: Api, slow_contents: SlowContents) -> None:
    ids = slow_contents(20, 0.2)
    batch_id = user.submit(PRICE, ids, {"newPrice": 3}, maxConcurrency=2)["batchId"]
    user.wait_for(batch_id, lambda b: b["processedItems"] >= 2)

    reply = user.request("POST", f"/batches/{batch_id}/cancel")
    assert reply.status == 202, reply
    batch = user.wait_final(batch_id)

    assert batch["status"] == "cancelled"
    assert batch["error"] is None
    assert batch["cancelledItems"] > 0 and batch["succeededItems"] >= 2
    assert_counts_add_up(batch)
    items = user.items(batch_id)
    assert {i["status"] for i in items} == {"succeeded", "cancelled"}
    # Items that ran kept their results: their content has the new price.
    for item in items:
        expected = 3 if item["status"] == "succeeded" else 100
        assert user.request("GET", f"/content/{item['itemId']}").body["price"] == expected
    # Twice is harmless; a batch that finished otherwise cannot be cancelled.
    again = user.request("POST", f"/batches/{batch_id}/cancel")
    assert (again.status, again.body["status"]) == (202, "cancelled")


def test_a_finished_batch_cannot_be_cancelled_and_another_owners_is_not_found(user: Api, other_user: Api) -> None:
    batch_id = user.submit(PRICE, [user.create_content()["contentId"]], {"newPrice": 1})["batchId"]
    user.wait_final(batch_id)
    reply = user.request("POST", f"/batches/{batch_id}/cancel")
    assert (reply.status, reply.body["error"]["code"]) == (409, "batch_finished")
    assert other_user.request("POST", f"/batches/{batch_id}/cancel").status == 404
    assert other_user.request("POST", f"/batches/{batch_id}/retry").status == 404


def test_retry_runs_only_the_failed_items_again_and_links_both_batches(user: Api) -> None:
    good = user.create_contents(2)
    batch_id = user.submit(PRICE, [good[0], "missing-1", good[1], "missing-2"], {"newPrice": 9})["batchId"]
    parent = user.wait_final(batch_id)
    assert parent["failedItems"] == 2

    reply = user.request("POST", f"/batches/{batch_id}/retry")
    assert reply.status == 202, reply
    retry = reply.body
    assert reply.headers["location"] == f"/batches/{retry['batchId']}"
    assert (retry["parentBatchId"], retry["totalItems"], retry["operation"]) == (batch_id, 2, PRICE)
    assert retry["params"] == {"newPrice": 9}
    assert user.batch(batch_id)["retriedBy"] == retry["batchId"]
    finished = user.wait_final(retry["batchId"])
    assert [i["itemId"] for i in user.items(retry["batchId"])] == ["missing-1", "missing-2"]
    assert finished["failedItems"] == 2

    again = user.request("POST", f"/batches/{batch_id}/retry")
    assert (again.status, again.body["error"]["code"]) == (409, "already_retried")


def test_retry_needs_a_finished_batch_with_something_to_retry(user: Api, slow_contents: SlowContents) -> None:
    done = user.submit(PRICE, [user.create_content()["contentId"]], {"newPrice": 1})["batchId"]
    user.wait_final(done)
    reply = user.request("POST", f"/batches/{done}/retry")
    assert (reply.status, reply.body["error"]["code"]) == (409, "nothing_to_retry")

    running = user.submit(PRICE, slow_contents(3, 0.3), {"newPrice": 1}, maxConcurrency=1)["batchId"]
    reply = user.request("POST", f"/batches/{running}/retry")
    assert (reply.status, reply.body["error"]["code"]) == (409, "batch_not_finished")
    user.wait_final(running)


def test_the_failure_threshold_stops_the_batch_and_skips_the_rest(user: Api) -> None:
    items = [f"missing-{n}" for n in range(6)] + user.create_contents(14)
    batch_id = user.submit(PRICE, items, {"newPrice": 2}, maxConcurrency=1, failureThresholdPercent=40)["batchId"]
    batch = user.wait_final(batch_id)

    assert batch["status"] == "failed"
    assert batch["error"]["code"] == "failure_threshold_exceeded"
    # Checked from the 10th processed item on: 6 of 10 failed is 60% > 40%.
    assert (batch["failedItems"], batch["succeededItems"]) == (6, 4)
    assert batch["skippedItems"] == 10
    assert_counts_add_up(batch)


def test_a_scheduled_batch_waits_for_its_time_then_runs(user: Api) -> None:
    content_id = user.create_content()["contentId"]
    at = _iso(timedelta(seconds=3))
    submitted = user.submit(PRICE, [content_id], {"newPrice": 4}, scheduledFor=at)
    assert submitted["status"] == "scheduled"
    assert user.batch(submitted["batchId"])["status"] == "scheduled"

    batch = user.wait_final(submitted["batchId"], timeout=60)
    assert batch["status"] == "completed"
    # moto's Wait floors the delay to whole seconds (AWS waits until the time): allow it that second.
    started = datetime.fromisoformat(batch["startedAt"])
    assert started >= datetime.fromisoformat(at) - timedelta(seconds=1)
    assert batch["options"]["scheduledFor"] is not None


def test_a_scheduled_batch_can_be_cancelled_before_it_starts(user: Api) -> None:
    content_id = user.create_content()["contentId"]
    batch_id = user.submit(PRICE, [content_id], {"newPrice": 4}, scheduledFor=_iso(timedelta(minutes=5)))["batchId"]

    assert user.request("POST", f"/batches/{batch_id}/cancel").status == 202
    batch = user.wait_final(batch_id)
    assert (batch["status"], batch["cancelledItems"], batch["startedAt"]) == ("cancelled", 1, None)
    assert user.request("GET", f"/content/{content_id}").body["price"] == 100


def test_schedule_and_callback_options_are_checked(user: Api) -> None:
    cases = {
        "options.scheduledFor": {"scheduledFor": _iso(timedelta(minutes=-1))},
        "options.callbackUrl": {"callbackUrl": "ftp://example.com/hook"},
    }
    far = user.request(
        "POST",
        "/batches",
        {
            "operation": PRICE,
            "items": ["a"],
            "params": {"newPrice": 1},
            "options": {"scheduledFor": _iso(timedelta(days=400))},
        },
    )
    assert far.status == 400 and far.body["error"]["details"][0]["field"] == "options.scheduledFor"
    for field, options in cases.items():
        body = {"operation": PRICE, "items": ["a"], "params": {"newPrice": 1}, "options": options}
        reply = user.request("POST", "/batches", body)
        assert reply.status == 400, reply
        assert [d["field"] for d in reply.body["error"]["details"]] == [field]
    assert user.request("GET", "/batches").body["batches"] == []


def test_too_many_new_batches_in_an_hour_get_a_429_with_retry_after_even_when_sent_at_once(user: Api) -> None:
    content_id = user.create_content()["contentId"]
    body = {"operation": PRICE, "items": [content_id], "params": {"newPrice": 1}}
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda _: user.request("POST", "/batches", body), range(MAX_BATCHES_PER_HOUR + 3)))

    assert sorted(r.status for r in replies) == [202] * MAX_BATCHES_PER_HOUR + [429] * 3
    refused = [r for r in replies if r.status == 429]
    assert all(r.body["error"]["code"] == "rate_limited" for r in refused)
    assert all(0 < int(r.headers["retry-after"]) <= 3600 for r in refused)
    assert len(user.request("GET", "/batches?limit=100").body["batches"]) == MAX_BATCHES_PER_HOUR


def test_the_same_idempotency_key_and_body_return_the_first_batch_and_start_nothing_new(user: Api) -> None:
    content_id = user.create_content()["contentId"]
    body = {"operation": PRICE, "items": [content_id], "params": {"newPrice": 6}}
    key = {"Idempotency-Key": "order-42"}

    first = user.request("POST", "/batches", body, headers=key)
    again = user.request("POST", "/batches", body, headers=key)
    assert (first.status, again.status) == (202, 202)
    assert again.body == first.body
    assert again.headers["location"] == first.headers["location"]
    assert [b["batchId"] for b in user.request("GET", "/batches").body["batches"]] == [first.body["batchId"]]

    other = user.request("POST", "/batches", {**body, "params": {"newPrice": 7}}, headers=key)
    assert (other.status, other.body["error"]["code"]) == (409, "idempotency_key_reused")
    # Another route, or another owner's key, is another key.
    created = user.request("POST", "/content", {"title": "t", "contentType": "a", "price": 1}, headers=key)
    assert created.status == 201


def test_concurrent_duplicates_never_start_two_batches(user: Api) -> None:
    content_id = user.create_content()["contentId"]
    body = {"operation": PRICE, "items": [content_id], "params": {"newPrice": 6}}
    key = {"Idempotency-Key": "burst-1"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda _: user.request("POST", "/batches", body, headers=key), range(6)))

    accepted = {r.body["batchId"] for r in replies if r.status == 202}
    assert len(accepted) == 1
    assert all(r.status == 202 or r.body["error"]["code"] == "request_in_progress" for r in replies)
    assert len(user.request("GET", "/batches").body["batches"]) == 1
    user.wait_final(accepted.pop())


def test_an_idempotency_key_must_be_at_most_255_characters(user: Api) -> None:
    body = {"operation": PRICE, "items": ["a"], "params": {"newPrice": 6}}
    reply = user.request("POST", "/batches", body, headers={"Idempotency-Key": "k" * 256})
    assert reply.status == 400
    assert reply.body["error"]["details"][0]["field"].lower() == "idempotency-key"
