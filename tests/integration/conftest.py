"""The offline stack, deployed from template.yaml once per session, and users to drive it over HTTP."""

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.stack import OfflineStack, StackConfig
from tests.integration.client import Api
from tests.integration.contract_server import Behaviour, ContractServer

# Generous: a healthy call on a loaded 2-core CI machine once took longer than 1 s. The slow behaviour exceeds it.
CONTRACT_TIMEOUT_SECONDS = 3
# Low, so that the limit is reached in a test; no other test creates this many batches for one user.
MAX_BATCHES_PER_HOUR = 8
SlowContents = Callable[[int, float], list[str]]


@pytest.fixture(scope="session")
def contract() -> Iterator[ContractServer]:
    server = ContractServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(contract: ContractServer) -> Iterator[OfflineStack]:
    config = StackConfig(
        api_port=0,
        aws_port=0,
        stack_name="batchops-test",
        parameters={
            "ContractEndpointUrl": contract.url,
            "ContractTimeoutSeconds": str(CONTRACT_TIMEOUT_SECONDS),
            "LogLevel": "WARNING",
            "MaxBatchesPerHour": str(MAX_BATCHES_PER_HOUR),
            "AllowLoopbackCallbacks": "true",
        },
    )
    running = OfflineStack(config).start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _clean_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "stack" in request.fixturenames:
        stack: OfflineStack = request.getfixturevalue("stack")
        stack.invoker.clear_faults()
        stack.access.clear_faults()


@pytest.fixture(autouse=True)
def _least_privilege(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test during which a function or the state machine made an AWS call that the role SAM
    generates for it from template.yaml would refuse."""
    yield
    if "stack" in request.fixturenames:
        stack: OfflineStack = request.getfixturevalue("stack")
        refused = dict.fromkeys(str(call) for call in stack.access.take_denied())
        if refused:
            pytest.fail("AWS calls their roles do not allow:\n" + "\n".join(refused), pytrace=False)


@pytest.fixture
def user(stack: OfflineStack) -> Api:
    """A fresh user per test: tests share the stack but never each other's data."""
    return api_as(stack, f"user-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def other_user(stack: OfflineStack) -> Api:
    return api_as(stack, f"other-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def anonymous(stack: OfflineStack) -> Api:
    return Api(stack.api_url, None)


@pytest.fixture
def count_records(stack: OfflineStack) -> Callable[[str], int]:
    """How many records a table (or objects a bucket) holds, to prove a rejected request wrote nothing."""
    db = stack.client("dynamodb")

    def count(output_name: str) -> int:
        if output_name.endswith("BucketName"):
            paginator = stack.client("s3").get_paginator("list_objects_v2")
            return sum(page.get("KeyCount", 0) for page in paginator.paginate(Bucket=stack.output(output_name)))
        table = stack.output(output_name)
        total = 0
        kwargs: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
        while True:
            page = db.scan(**kwargs)
            total += int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    return count


@pytest.fixture
def slow_contents(user: Api, contract: ContractServer) -> SlowContents:
    """`count` new contents of the test's user whose contract calls each take `seconds`: items that run
    long enough to watch a batch in flight."""

    def create(count: int, seconds: float) -> list[str]:
        ids = user.create_contents(count)
        for content_id in ids:
            contract.behave(content_id, Behaviour(delay_seconds=seconds))
        return ids

    return create


def api_as(stack: OfflineStack, sub: str) -> Api:
    assert stack.issuer is not None
    return Api(stack.api_url, stack.issuer.issue(sub), owner=sub)
