"""What the offline stack lets go of in moto: dead model instances and finished interpreter threads."""

import gc
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from moto.core.common_models import BaseModel
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.utils import TMP_THREADS

from local.moto_memory import MotoMemory


@pytest.fixture
def memory() -> Iterator[MotoMemory]:
    installed = MotoMemory()
    installed.install()
    yield installed
    installed.uninstall()


def _item(key: str) -> Item:
    return Item(DynamoType({"S": key}), None, {"pk": {"S": key}, "price": {"N": "100"}})


def test_dead_items_are_no_longer_tracked_and_live_ones_still_are(memory: MotoMemory) -> None:
    kept = _item("kept")
    for n in range(100):
        _item(f"copy-{n}")  # as moto's throwaway copies: dropped at once
    gc.collect()
    tracked = list(Item.instances_tracked)  # type: ignore[attr-defined]
    assert any(instance is kept for instance in tracked)
    assert not any(isinstance(instance, Item) and instance.hash_key.value.startswith("copy-") for instance in tracked)


def test_uninstall_puts_moto_back() -> None:
    new, start = BaseModel.__dict__["__new__"], ExecutionWorker.start
    installed = MotoMemory()
    installed.install()
    installed.uninstall()
    assert (BaseModel.__dict__["__new__"], ExecutionWorker.start) == (new, start)


def test_an_execution_start_drops_the_finished_threads(memory: MotoMemory) -> None:
    # moto's start runs `_execution_logic` on a new thread and appends that thread to TMP_THREADS.
    start: Callable[[Any], None] = ExecutionWorker.start
    start(SimpleNamespace(_execution_logic=lambda: None))
    finished = TMP_THREADS[-1]
    finished.join()
    start(SimpleNamespace(_execution_logic=lambda: None))
    assert finished not in TMP_THREADS
