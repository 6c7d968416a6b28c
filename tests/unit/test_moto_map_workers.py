"""The offline stack's Distributed Map: a worker goes through more items than Python's recursion limit."""

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config

from local.moto_map_workers import MotoMapWorkers

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


def test_one_worker_goes_through_more_items_than_the_recursion_limit(clients: tuple[Any, Any]) -> None:
    s3, sfn = clients
    items = sys.getrecursionlimit() + 200
    s3.create_bucket(Bucket="items-bucket")
    s3.put_object(Bucket="items-bucket", Key="items.json", Body=json.dumps([{"n": n} for n in range(items)]))
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
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Item",
                    "States": {"Item": {"Type": "Pass", "Result": {}, "End": True}},
                },
                "ResultPath": None,
                "End": True,
            }
        },
    }
    arn = sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    deadline = time.monotonic() + 120
    while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
        assert time.monotonic() < deadline, "the execution never ended"
        time.sleep(0.2)
    assert status == "SUCCEEDED"
