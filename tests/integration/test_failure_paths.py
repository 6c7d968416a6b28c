"""Correct under failure: Retry, the item failure handler and the last-resort paths of the ASL.

Faults are injected into the local invoker, which answers as the Lambda service would before the
handler runs; everything else is the real state machine."""

from typing import Any

from local.stack import OfflineStack
from tests.integration.client import Api
from tests.integration.conftest import SlowContents

PRICE = "content.update-price"


def _index_is(index: int) -> Any:
    return lambda event: isinstance(event, dict) and event.get("index") == index


def test_transient_item_failures_are_retried_and_the_item_succeeds(user: Api, stack: OfflineStack) -> None:
    ids = user.create_contents(3)
    stack.invoker.inject_fault("ProcessItemFunction", "StoreUnavailableError", when=_index_is(1), times=2)

    batch = user.wait_final(user.submit(PRICE, ids, {"newPrice": 4})["batchId"])

    assert (batch["status"], batch["succeededItems"]) == ("completed", 3)
    assert user.request("GET", f"/content/{ids[1]}").body["price"] == 4


def test_an_item_that_keeps_failing_is_recorded_failed_and_the_others_keep_their_results(
    user: Api, stack: OfflineStack
) -> None:
    ids = user.create_contents(4)
    stack.invoker.inject_fault("ProcessItemFunction", "Lambda.ServiceException", when=_index_is(2))

    batch = user.wait_final(user.submit(PRICE, ids, {"newPrice": 8})["batchId"])

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
    stack.invoker.inject_fault("ProcessItemFunction", "Lambda.ServiceException", when=_index_is(0))
    stack.invoker.inject_fault("RecordItemFailureFunction", "Lambda.ServiceException", when=_index_is(0))

    batch = user.wait_final(user.submit(PRICE, ids, {"newPrice": 8}, maxConcurrency=1)["batchId"])

    assert batch["status"] == "failed"
    assert batch["error"]["code"] == "system_error"
    assert batch["completedAt"] is not None
    assert batch["processedItems"] + batch["skippedItems"] == batch["totalItems"] == 3
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


def test_a_batch_whose_execution_cannot_start_ends_failed_with_a_503(user: Api, stack: OfflineStack) -> None:
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
    assert reply.status == 503
    assert reply.body["error"]["code"] == "start_failed"
    # The batch record that was written is not left pending forever: it says why it failed.
    records = stack.client("dynamodb").query(
        TableName=stack.output("BatchesTableName"),
        IndexName="byOwner",
        KeyConditionExpression="gsi1pk = :owner",
        ExpressionAttributeValues={":owner": {"S": f"OWNER#{user.owner}"}},
    )["Items"]
    assert [(r["status"]["S"], r["error"]["M"]["code"]["S"]) for r in records] == [("failed", "start_failed")]
    batch = user.batch(records[0]["batchId"]["S"])
    assert (batch["skippedItems"], batch["totalItems"]) == (1, 1)
    assert "expiresAt" in records[0]  # ended like any batch: it expires after the retention period


def test_an_execution_stopped_from_outside_still_ends_its_batch_failed_with_every_item_accounted_for(
    user: Api, stack: OfflineStack, slow_contents: SlowContents
) -> None:
    ids = slow_contents(30, 0.1)
    batch_id = user.submit(PRICE, ids, {"newPrice": 9}, maxConcurrency=1)["batchId"]
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
