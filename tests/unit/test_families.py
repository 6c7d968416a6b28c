"""Operation families: each operation runs with its own family's resources, and a family is checked as a whole."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from batchops.adapters.aws_clients import AwsClients
from batchops.content.family import CONTENT
from batchops.content.operations import ContentResources
from batchops.domain.models import ItemOutcome, ItemRef
from batchops.domain.ports import ItemTask
from batchops.operations.camel import NoParams
from batchops.operations.family import Family
from batchops.operations.registry import Operation, OperationRegistry
from batchops.settings import Settings
from tests.unit.fakes import FakeContract, InMemoryContent, content


@dataclass(frozen=True)
class Greetings:
    """The resources of a tiny family: nothing like content's."""

    greeting: str


def _greet(task: ItemTask, params: NoParams, res: Greetings) -> ItemOutcome:
    return ItemOutcome.succeeded(f"{res.greeting}, {task.ref.item_id}", {"greeted": task.ref.item_id})


def _unused(settings: Settings, clients: AwsClients) -> Greetings:
    return Greetings(settings.required("GREETING"))


GREET = Operation("greetings.greet", "Greet each item", NoParams, str, ItemRef, _greet)
GREETINGS = Family(name="greetings", operations=(GREET,), resources=_unused)
REGISTRY = OperationRegistry([*CONTENT.operations, *GREETINGS.operations])
NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _task(item_id: str, params: dict[str, Any]) -> ItemTask:
    return ItemTask("batch-1", "alice", 0, ItemRef(item_id), params, NOW)


def test_each_operation_runs_with_its_own_familys_resources() -> None:
    store = InMemoryContent({"a": content("a", price=10)})
    runner = REGISTRY.bind(
        CONTENT.with_resources(ContentResources(store, FakeContract())),
        GREETINGS.with_resources(Greetings("hello")),
    )
    greeted = runner.run("greetings.greet", _task("bob", {}))
    assert (greeted.message, greeted.output) == ("hello, bob", {"greeted": "bob"})
    repriced = runner.run("content.update-price", _task("a", {"newPrice": 20}))
    assert repriced.output is not None and repriced.output["price"] == 20
    assert store.contents["a"].price == 20


def test_a_family_without_resources_here_cannot_run_but_the_others_can() -> None:
    runner = REGISTRY.bind(GREETINGS.with_resources(Greetings("hi")))
    assert runner.run("greetings.greet", _task("x", {})).message == "hi, x"
    with pytest.raises(LookupError, match=r"content\.remove"):
        runner.run("content.remove", _task("a", {"reason": "old"}))


def test_only_registered_operations_bind_and_each_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match=r"greetings\.greet of family greetings is not registered"):
        OperationRegistry(list(CONTENT.operations)).bind(GREETINGS.with_resources(Greetings("hi")))
    with pytest.raises(ValueError, match=r"registered twice: greetings\.greet"):
        OperationRegistry([GREET, GREET])


def test_a_familys_operations_carry_its_name_and_its_routes_come_with_their_services() -> None:
    with pytest.raises(ValueError, match=r"must start with greetings\."):
        Family[Any](name="greetings", operations=(GREET, CONTENT.operations[0]), resources=_unused)
    with pytest.raises(ValueError, match="routes and their services come together"):
        Family(name="greetings", operations=(GREET,), resources=_unused, services=_unused)
