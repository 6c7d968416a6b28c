"""The local AWS endpoint keeps the promises of AWS that our code relies on."""

import sys
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from moto import backends

from local.stack import OfflineStack


def test_conditional_writes_sent_at_once_are_atomic_as_in_dynamodb(stack: OfflineStack) -> None:
    table, key = stack.output("BatchesTableName"), {"pk": {"S": f"RACE#{uuid.uuid4()}"}, "sk": {"S": "COUNTER"}}
    clients = [stack.client("dynamodb") for _ in range(8)]
    limit = 10

    def take(n: int) -> bool:
        try:
            clients[n % len(clients)].update_item(
                TableName=table,
                Key=key,
                UpdateExpression="ADD taken :one",
                ConditionExpression="attribute_not_exists(taken) OR taken < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)}},
            )
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    # Threads switch often, as on a loaded machine: moto's check-then-write would interleave.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            taken = sum(pool.map(take, range(200)))
    finally:
        sys.setswitchinterval(interval)
    assert taken == limit
    item = stack.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert item["taken"] == {"N": str(limit)}


def test_the_service_of_a_request_is_found_once_per_host_not_by_listing_moto_each_time(
    stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb = stack.client("dynamodb")
    dynamodb.list_tables()  # this host's service is known from here on
    listed: list[int] = []
    original = backends.list_of_moto_modules

    def counted() -> Iterable[str]:
        listed.append(1)
        return original()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    for _ in range(5):
        dynamodb.list_tables()
    assert listed == []
