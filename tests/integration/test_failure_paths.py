"""Correct under failure: Retry, the item failure handler and the last-resort paths of the ASL.

Faults are injected into the local invoker, which answers as the Lambda service would before the
handler runs, or into the local AWS endpoint, which answers as DynamoDB would; everything else is the
real state machine."""

from collections.abc import Callable
from typing import Any

from local.stack import OfflineStack
from tests.integration.client import Api
from tests.integration.conftest import SlowContents

PRICE = "content.update-price"


ONE_ITEM_PER_CHUNK = {"chunkSize": 1, "maxConcurrency": 1}


def _chunk_is(number: int) -> Any:
    """Invocations that run chunk `number` (not the one that gives it up after its retries)."""
    return lambda event: isinstance(event, dict) and event.get("number") == number and "failure" not in event


def _gives_up(number: int) -> Any:
    return lambda event: isinstance(event, dict) and event.get("number") == number and "failure" in event


def test_transient_chunk_failures_are_retried_and_the_items_succeed(user: Api, stack: OfflineStack) -> None:
    ids = user.create_contents(3)
    stack.invoker.inject_fault("ProcessChunkFunction", "StoreUnavailableError", when=_chunk_is(1), times=2)

    batch = user.wait_final(user.submit(PRICE, ids, {"newPrice": 4}, **ONE_ITEM_PER_CHUNK)["batchId"])

    assert (batch["status"], batch["succeededItems"]) == ("completed", 3)
    assert user.request("GET", f"/content/{ids[1]}").body["price"] == 4


def test_an_item_that_keeps_failing_is_recorded_failed_and_the_others_keep_their_results(
    user: Api, stack: OfflineStack
) -> None:
    ids = user.create_contents(4)
    stack.invoker.inject_fault("ProcessChunkFunction", "Lambda.ServiceException", when=_chunk_is(2))

    batch = user.wait_final(user.submit(PRICE, ids, {"newPrice": 8}, **ONE_ITEM_PER_CHUNK)["batchId"])

    assert batch["status"] == "completed"
    assert (batch["succeededItems"], batch["failedItems"]) == (3, 1)
    items = user.items(batch["batchId"])
    assert items[2]["status"] == "failed"
    assert items[2]["error"]["code"] == "internal_error"
    assert "Lambda.ServiceException" in items[2]["error"]["message"]
    assert [i["status"] for i in items[:2] + items[3:]] == ["succeeded"] * 3


def test_when_the_map_itself_breaks_the_batch_ends_failed_with_every_item_accounted_for(
    user: Api, stack: OfflineStack
) -> None:
    ids = user.create_contents(3)
    # Chunk 0 breaks its child workflow every time: neither it nor its give-up ever succeeds.
    stack.invoker.inject_fault("ProcessChunkFunction", "Lambda.ServiceException", when=_chunk_is(0))
    stack.invoker.inject_fault("ProcessChunkFunction", "Lambda.ServiceException", when=_gives_up(0))

    batch_id = user.submit(PRICE, ids, {"newPrice": 8}, **ONE_ITEM_PER_CHUNK)["batchId"]
    batch = user.wait_final(batch_id, timeout=120)

    # The other chunks ran; a round that left the same chunk unfinished again ended the batch.
    assert batch["status"] == "failed"
    assert batch["error"]["code"] == "system_error"
    assert "ChunksStalled" in batch["error"]["message"]
    assert batch["completedAt"] is not None
    assert (batch["succeededItems"], batch["skippedItems"], batch["totalItems"]) == (2, 1, 3)
    assert user.items(batch["batchId"])[0]["status"] == "skipped"


def test_a_batch_never_stays_processing_even_when_the_aggregator_keeps_failing(user: Api, stack: OfflineStack) -> None:
    content_id = user.create_content()["contentId"]
    stack.invoker.inject_fault("FinalizeBatchFunction", "Lambda.ServiceException")

    batch = user.wait_final(user.submit(PRICE, [content_id], {"newPrice": 8})["batchId"], timeout=120)

    assert batch["status"] == "failed"
    assert batch["error"]["code"] == "internal_error"
    assert "Lambda.ServiceException" in batch["error"]["message"]
    execution = stack.client("stepfunctions").describe_execution(executionArn=batch["executionArn"])
    assert execution["status"] == "FAILED"


def test_a_batch_whose_state_machine_is_missing_ends_failed_with_a_500_and_takes_no_hourly_slot(
    user: Api, stack: OfflineStack
) -> None:
    sfn = stack.client("stepfunctions")
    arn = stack.output("StateMachineArn")
    definition = sfn.describe_state_machine(stateMachineArn=arn)
    sfn.delete_state_machine(stateMachineArn=arn)
    try:
        reply = user.request("POST", "/batches", {"operation": PRICE, "items": ["a"], "params": {"newPrice": 1}})
    finally:
        sfn.create_state_machine(
            name=definition["name"], definition=definition["definition"], roleArn=definition["roleArn"]
        )
    # A missing resource is no passing trouble: not a 503 to retry, but an internal error, at once.
    assert reply.status == 500
    assert reply.body["error"]["code"] == "internal_error"
    # The batch record that was written is not left pending forever: it says why it failed.
    db, table = stack.client("dynamodb"), stack.output("BatchesTableName")
    records = db.query(
        TableName=table,
        IndexName="byOwner",
        KeyConditionExpression="gsi1pk = :owner",
        ExpressionAttributeValues={":owner": {"S": f"OWNER#{user.owner}"}},
    )["Items"]
    assert [(r["status"]["S"], r["error"]["M"]["code"]["S"]) for r in records] == [("failed", "internal_error")]
    batch = user.batch(records[0]["batchId"]["S"])
    assert (batch["skippedItems"], batch["totalItems"]) == (1, 1)
    assert "expiresAt" in records[0]  # ended like any batch: it expires after the retention period
    slots = db.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RATE#{user.owner}"}},
    )["Items"]
    assert [int(s["taken"]["N"]) for s in slots] == [0]


def test_an_execution_stopped_from_outside_still_ends_its_batch_failed_with_every_item_accounted_for(
    user: Api, stack: OfflineStack, slow_contents: SlowContents
) -> None:
    ids = slow_contents(30, 0.1)
    # Chunks of 5, one at a time: moto ends a stopped execution once its running child is done; the chunks
    # after it never start.
    batch_id = user.submit(PRICE, ids, {"newPrice": 9}, maxConcurrency=1, chunkSize=5)["batchId"]
    user.wait_for(batch_id, lambda b: b["processedItems"] >= 2)

    # StopExecution, like States.Runtime, a timeout or the history limit, skips every Catch on AWS:
    # the EventBridge rule on the execution's status change is what gives the aggregator the last word.
    sfn = stack.client("stepfunctions")
    execution_arn = user.batch(batch_id)["executionArn"]
    sfn.stop_execution(executionArn=execution_arn)

    batch = user.wait_final(batch_id)
    assert batch["status"] == "failed"
    assert batch["error"]["code"] == "system_error"
    assert batch["skippedItems"] > 0
    assert batch["processedItems"] + batch["skippedItems"] == batch["totalItems"] == 30
    assert batch["succeededItems"] == len(user.items(batch_id, status="succeeded"))
    # moto ends a stopped execution FAILED (a States.Runtime error in the Map) rather than ABORTED:
    # either way it skipped every Catch, and the batch's error comes from the status-change event.
    execution = sfn.describe_execution(executionArn=execution_arn)
    assert execution["status"] in {"FAILED", "ABORTED"}
    assert execution.get("error", execution["status"]) in batch["error"]["message"]


def test_a_batch_whose_record_is_refused_leaves_no_item_records_and_takes_no_hourly_slot(
    user: Api, stack: OfflineStack, count_records: Callable[[str], int]
) -> None:
    before = count_records("BatchesTableName")
    # The item records are written first; the batch record after them is refused.
    stack.access.fail("ApiFunction", "dynamodb:PutItem", "ValidationException")
    reply = user.request("POST", "/batches", {"operation": PRICE, "items": ["a", "b", "c"], "params": {"newPrice": 1}})
    assert (reply.status, reply.body["error"]["code"]) == (500, "internal_error")
    assert user.request("GET", "/batches").body["batches"] == []
    # What stays is the owner's counter of this hour, with the slot given back: no item record is left.
    slots = stack.client("dynamodb").query(
        TableName=stack.output("BatchesTableName"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RATE#{user.owner}"}},
    )["Items"]
    assert [int(slot["taken"]["N"]) for slot in slots] == [0]
    assert count_records("BatchesTableName") == before + len(slots)


def test_a_throttled_database_is_a_503_to_retry_and_a_refused_one_fails_at_once(
    user: Api, stack: OfflineStack, count_records: Callable[[str], int]
) -> None:
    # Throttled past the SDK's own retries: worth retrying later.
    stack.access.fail("ApiFunction", "dynamodb:GetItem", "ProvisionedThroughputExceededException", times=50)
    reply = user.request("GET", "/batches/b-throttled")
    assert (reply.status, reply.body["error"]["code"]) == (503, "store_unavailable")
    stack.access.clear_faults()

    # Refused (AccessDenied): one invocation, no retry; the item is recorded failed and the batch goes on.
    content_id = user.create_content()["contentId"]
    stack.invoker.reset_stats()
    content_table = stack.output("ContentTableName")
    stack.access.fail("ProcessChunkFunction", "dynamodb:UpdateItem", "AccessDeniedException", table=content_table)
    batch = user.wait_final(user.submit(PRICE, [content_id], {"newPrice": 2})["batchId"])
    assert (batch["status"], batch["failedItems"]) == ("completed", 1)
    assert [i["error"]["code"] for i in user.items(batch["batchId"])] == ["internal_error"]
    assert stack.invoker.calls("ProcessChunkFunction") == 1
