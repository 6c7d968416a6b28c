"""A stop that comes before moto's execution worker has built its environment still stops the execution."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from local.moto_early_stops import MotoEarlyStops


class _Environment:
    def __init__(self) -> None:
        self.stops: list[dict[str, Any]] = []

    def set_stop(self, **stop: Any) -> None:
        self.stops.append(stop)


def _worker_without_environment() -> ExecutionWorker:
    worker = ExecutionWorker.__new__(ExecutionWorker)
    worker.env = None  # as moto leaves it until its thread has started evaluating
    return worker


@pytest.fixture
def early_stops() -> Iterator[None]:
    patch = MotoEarlyStops()
    patch.install()
    yield
    patch.uninstall()


def test_without_the_patch_an_early_stop_fails_as_moto_did() -> None:
    with pytest.raises(AttributeError):
        _worker_without_environment().stop(datetime.now(UTC), None, None)


@pytest.mark.usefixtures("early_stops")
def test_an_early_stop_waits_for_the_environment_then_stops_it() -> None:
    worker, environment = _worker_without_environment(), _Environment()
    arrives = threading.Timer(0.05, lambda: setattr(worker, "env", environment))
    arrives.start()
    when = datetime.now(UTC)

    worker.stop(when, "Cancelled", "by the user")

    arrives.join()
    assert environment.stops == [{"stop_date": when, "cause": "by the user", "error": "Cancelled"}]
