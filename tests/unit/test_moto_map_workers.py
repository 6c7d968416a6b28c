"""The offline stack's Distributed Map: a worker goes through more items than Python's recursion limit, and a
Map Run fails once more children fail than it tolerates, as on AWS."""

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config

from local.moto_map_workers import MotoMapWorkers, exceeds_tolerance

ROLE = "arn:aws:iam::123456789012:role/sfn"


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    installed = MotoMapWorkers()
    installed.install()
    executes = default_user_config["stepfunctions"]["execute_state_machine"]
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1"), boto3.client("stepfunctions", region_name="us-east-1")
    default_user_config["stepfunctions"]["execute_state_machine"] = executes
    installed.uninstall()


def _run_map(clients: tuple[Any, Any], items: list[Any], child: dict[str, Any], **map_fields: Any) -> dict[str, Any]:
    """Runs a Distributed Map over `items` (read from S3) and returns the execution's description."""
    s3, sfn = clients
    s3.create_bucket(Bucket="items-bucket")
    s3.put_object(Bucket="items-bucket", Key="items.json", Body=json.dumps(items))
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": "items-bucket", "Key": "items.json"},
                },
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **child},
                "ResultPath": None,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Caught"}],
                "End": True,
                **map_fields,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    arn = sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    deadline = time.monotonic() + 120
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution never ended"
        time.sleep(0.2)
    return dict(described)


PASS = {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "Result": {}, "End": True}}}
# The third item fails its child workflow; the others succeed.
FAIL_THIRD = {
    "StartAt": "Which",
    "States": {
        "Which": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericEquals": 2, "Next": "Broken"}],
            "Default": "Fine",
        },
        "Broken": {"Type": "Fail", "Error": "ItemBroken"},
        "Fine": {"Type": "Pass", "Result": {}, "End": True},
    },
}


def test_one_worker_goes_through_more_items_than_the_recursion_limit(clients: tuple[Any, Any]) -> None:
    items = [{"n": n} for n in range(sys.getrecursionlimit() + 200)]
    described = _run_map(clients, items, PASS)
    assert described["status"] == "SUCCEEDED"
    assert "failure" not in json.loads(described["output"])


def test_failed_child_without_tolerance_ends_the_map_run_with_exceed_tolerated_failure_threshold(
    clients: tuple[Any, Any],
) -> None:
    described = _run_map(clients, [{"n": n} for n in range(50)], FAIL_THIRD)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["failure"]["Error"] == "States.ExceedToleratedFailureThreshold"
    _, sfn = clients
    run = sfn.describe_map_run(
        mapRunArn=sfn.list_map_runs(executionArn=described["executionArn"])["mapRuns"][0]["mapRunArn"]
    )
    # One worker: the Map Run ended at the failure, the items after it never started.
    assert run["itemCounts"]["total"] == 3


def test_failed_child_within_tolerated_percentage_leaves_the_map_run_succeeding(clients: tuple[Any, Any]) -> None:
    described = _run_map(clients, [{"n": n} for n in range(50)], FAIL_THIRD, ToleratedFailurePercentage=5.0)
    assert described["status"] == "SUCCEEDED"
    assert "failure" not in json.loads(described["output"])


@pytest.mark.parametrize(
    ("failed", "total", "count", "percentage", "exceeded"),
    [
        (1, 10, 0, 0, True),
        (1, 10, 1, 0, False),
        (2, 10, 1, 0, True),
        (1, 10, 0, 10, False),
        (2, 10, 0, 10, True),
        (2, 10, 5, 10, True),
        (1, 10, 5, 20, False),
    ],
)
def test_tolerance_rule_matches_aws(failed: int, total: int, count: int, percentage: float, exceeded: bool) -> None:
    assert exceeds_tolerance(failed, total, count, percentage) is exceeded
