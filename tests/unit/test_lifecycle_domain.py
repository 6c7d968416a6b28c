"""Cancel, retry, the failure threshold, the hourly limit, reports and webhooks, over in-memory ports."""

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

import pytest

from batchops.domain.batches import Caller
from batchops.domain.callbacks import callback_problem
from batchops.domain.errors import (
    AlreadyRetriedError,
    BatchFinishedError,
    BatchNotFinishedError,
    BatchStoppedError,
    InvalidRequestError,
    NothingToRetryError,
    RateLimitedError,
    WebhookDeliveryError,
)
from batchops.domain.models import BatchOptions, BatchStatus, ErrorInfo, ItemStatus
from batchops.domain.notifications import SIGNATURE_HEADER, CallbackNotifier
from batchops.domain.preparation import Progress
from batchops.domain.reports import ReportFormat, ReportScope
from batchops.domain.webhook_secrets import WebhookSecrets
from tests.unit.fakes import InMemorySecretVersions, content
from tests.unit.world import World

ONE_PER_CHUNK = BatchOptions(chunk_size=1, max_concurrency=1)


def test_cancelling_a_running_batch_lets_started_items_keep_results_and_cancels_the_rest() -> None:
    world = World()
    world.content.create(content("a"))
    batch_id = world.submit_with(["a", "b", "c"], ONE_PER_CHUNK)
    world.start(batch_id)
    world.run_chunk(batch_id, 0)

    world.service.cancel("alice", batch_id)
    for number in (1, 2):
        with pytest.raises(BatchStoppedError):  # nothing starts once cancelled: the child fails, the round ends
            world.run_chunk(batch_id, number)
    assert world.preparer.next_round(batch_id, 1, Progress(3, 1)).chunk_count == 0
    world.finalizer.finalize(batch_id, None)

    batch = world.repo.batches[batch_id]
    assert batch.status is BatchStatus.CANCELLED and batch.error is None
    assert [i.status for i in world.items.all(batch)] == [
        ItemStatus.SUCCEEDED,
        ItemStatus.CANCELLED,
        ItemStatus.CANCELLED,
    ]
    assert (batch.counts.succeeded, batch.counts.cancelled) == (1, 2)
    assert world.workflow.stopped == []  # a running execution drains; only a waiting one is stopped
    assert world.service.cancel("alice", batch_id) == batch  # twice is harmless


def test_cancelling_a_scheduled_batch_stops_its_execution_and_a_finished_one_cannot_be_cancelled() -> None:
    world = World()
    at = world.clock.now() + timedelta(hours=1)
    scheduled = world.submit_with(["a"], BatchOptions(scheduled_for=at))
    assert world.repo.batches[scheduled].status is BatchStatus.SCHEDULED
    world.service.cancel("alice", scheduled)
    assert world.workflow.stopped == [scheduled]

    done = world.submit(["a"])
    world.finish(done)
    with pytest.raises(BatchFinishedError):
        world.service.cancel("alice", done)


def test_retry_takes_failed_items_once_and_only_from_a_final_batch() -> None:
    world = World()
    world.content.create(content("a"))
    batch_id = world.submit(["a", "missing"])
    with pytest.raises(BatchNotFinishedError):
        world.service.retry(Caller("alice"), batch_id)
    world.finish(batch_id)

    retry = world.service.retry(Caller("alice", source_ip="10.0.0.1"), batch_id)

    assert [i.ref.item_id for i in world.items.all(retry)] == ["missing"]
    assert (retry.parent_batch_id, retry.source_ip) == (batch_id, "10.0.0.1")
    assert world.repo.batches[batch_id].retried_by == retry.batch_id
    with pytest.raises(AlreadyRetriedError):
        world.service.retry(Caller("alice"), batch_id)
    world.content.create(content("b"))
    clean = world.submit(["b"])
    world.finish(clean)
    with pytest.raises(NothingToRetryError):
        world.service.retry(Caller("alice"), clean)


def test_a_retry_that_cannot_start_releases_its_claim_on_the_parent() -> None:
    world = World()
    batch_id = world.submit(["missing"])
    world.finish(batch_id)
    world.workflow.fail = True
    with pytest.raises(Exception):  # noqa: B017 - whatever the workflow raised
        world.service.retry(Caller("alice"), batch_id)
    assert world.repo.batches[batch_id].retried_by is None


def test_the_failure_threshold_stops_new_items_once_ten_are_processed() -> None:
    world = World()
    for name in "abcdefgh":
        world.content.create(content(name))
    items = ["x1", "x2", "x3", *"abcdefg", "h", "i"]  # 3 failures among the first 10: 30%
    # One at a time, so that the order the items finish in is the order they were given.
    batch_id = world.submit_with(items, BatchOptions(failure_threshold_percent=25, max_concurrency=1))
    world.finish(batch_id)

    batch = world.repo.batches[batch_id]
    assert batch.status is BatchStatus.FAILED
    assert batch.error is not None and batch.error.code == "failure_threshold_exceeded"
    assert (batch.counts.processed, batch.counts.skipped) == (10, 2)


def test_under_the_threshold_a_batch_completes() -> None:
    world = World()
    batch_id = world.submit_with(["x1", "x2"], BatchOptions(failure_threshold_percent=100))
    world.finish(batch_id)
    assert world.repo.batches[batch_id].status is BatchStatus.COMPLETED


def test_the_hourly_limit_refuses_the_next_batch_with_the_time_to_wait() -> None:
    world = World()  # three batches an hour
    for _ in range(3):
        world.submit(["a"])
    with pytest.raises(RateLimitedError) as raised:
        world.submit(["a"])
    # The fake clock starts at noon: the next hour begins in a little under an hour.
    assert 3590 <= raised.value.retry_after_seconds <= 3600


def test_schedule_and_callback_are_checked_against_now_and_the_allowed_schemes() -> None:
    world = World()
    past = world.clock.now() - timedelta(seconds=1)
    with pytest.raises(InvalidRequestError) as raised:
        world.submit_with(["a", "a"], BatchOptions(scheduled_for=past, callback_url="ftp://x"))
    assert [p.field for p in raised.value.problems] == ["options.scheduledFor", "options.callbackUrl", "items[1]"]
    assert callback_problem("https://hooks.example/x", allow_loopback_http=False) is None
    assert callback_problem("http://127.0.0.1:9000/x", allow_loopback_http=True) is None
    assert callback_problem("http://127.0.0.1:9000/x", allow_loopback_http=False) == "must not be a loopback address"
    assert callback_problem("http://example.com/x", allow_loopback_http=True) is not None


def test_a_final_batch_gets_four_reports_an_event_and_an_expiry() -> None:
    world = World()
    batch_id = world.submit(["missing", "also-missing"])
    world.finish(batch_id)

    csv_all = world.reports.objects[(batch_id, ReportScope.ALL, ReportFormat.CSV)].decode().splitlines()
    assert csv_all[0] == "index,itemId,status,errorCode,message,warnings,durationMs,output"
    assert csv_all[1].startswith("0,missing,failed,not_found,")
    failed = world.reports.objects[(batch_id, ReportScope.FAILED, ReportFormat.JSONL)].decode().splitlines()
    assert [json.loads(line)["itemId"] for line in failed] == ["missing", "also-missing"]
    [(detail_type, detail)] = world.events.published
    assert (detail_type, detail["status"], detail["failedItems"]) == ("Batch Completed", "completed", 2)
    completed = world.repo.batches[batch_id].completed_at
    assert completed is not None and world.repo.expiries[batch_id] == completed + timedelta(days=90)


class RecordingSender:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[tuple[str, bytes, Mapping[str, str]]] = []

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        self.sent.append((url, body, headers))
        if self.fail:
            raise WebhookDeliveryError("callback answered HTTP 500")


def test_the_callback_is_signed_with_its_owners_secret_over_the_time_and_the_exact_body() -> None:
    world = World()
    batch_id = world.submit_with(["missing"], BatchOptions(callback_url="https://hooks.example/done"))
    secrets = WebhookSecrets(lambda: b"master", InMemorySecretVersions())
    sender = RecordingSender()
    notifier = CallbackNotifier(world.repo, sender, secrets, world.clock)
    assert notifier.notify(batch_id) is False  # not final yet: nothing to say
    world.finish(batch_id)
    with pytest.raises(WebhookDeliveryError):
        CallbackNotifier(world.repo, RecordingSender(fail=True), secrets, world.clock).notify(batch_id)

    assert notifier.notify(batch_id) is True  # a failed delivery is tried again
    [(url, body, headers)] = sender.sent
    assert url == "https://hooks.example/done"
    timestamp, mac = (part.split("=", 1)[1] for part in headers[SIGNATURE_HEADER].split(","))
    assert abs(int(timestamp) - world.clock.now().timestamp()) < 5
    signed = f"{timestamp}.".encode() + body
    assert mac == hmac.new(secrets.current("alice").encode(), signed, hashlib.sha256).hexdigest()
    assert json.loads(body)["status"] == "completed"
    assert notifier.notify(batch_id) is False  # a delivered callback is not sent twice
    assert len(sender.sent) == 1


def test_each_owner_has_a_secret_of_their_own_and_rotation_replaces_it() -> None:
    secrets = WebhookSecrets(lambda: b"master", InMemorySecretVersions())
    alice = secrets.current("alice")
    assert alice.startswith("whsec_") and alice == secrets.current("alice")
    assert secrets.current("bob") != alice
    rotated = secrets.rotate("alice")
    assert rotated != alice and secrets.current("alice") == rotated
    assert WebhookSecrets(lambda: b"other master", InMemorySecretVersions()).current("alice") != alice


def test_a_batch_another_path_ended_gets_its_items_settled_counted_and_published() -> None:
    # MarkFailed (the last resort in the ASL) writes `failed` straight to DynamoDB and touches no item.
    world = World()
    world.content.create(content("a"))
    batch_id = world.submit_with(["a", "b", "c"], ONE_PER_CHUNK)
    world.start(batch_id)
    world.run_chunk(batch_id, 0)
    batch = world.repo.batches[batch_id]
    world.repo.batches[batch_id] = replace(
        batch, status=BatchStatus.FAILED, completed_at=world.clock.now(), error=ErrorInfo("internal_error", "x")
    )

    world.finalizer.finalize(batch_id, None)

    settled = world.repo.batches[batch_id]
    assert [i.status for i in world.items.all(settled)] == [ItemStatus.SUCCEEDED] + [ItemStatus.SKIPPED] * 2
    assert (settled.status, settled.counts.succeeded, settled.counts.skipped) == (BatchStatus.FAILED, 1, 2)
    assert settled.published and [d["skippedItems"] for _, d in world.events.published] == [2]
