"""A StopExecution that comes right after StartExecution, stopping the execution as AWS does.

moto's execution worker builds its evaluation environment on its own thread, after StartExecution has already
answered; a StopExecution in between (cancelling a scheduled batch at once after submitting it) found no
environment, failed with an AttributeError, and moto's server printed its traceback (boto3 then retried the
call). Here the stop waits for the environment, briefly, then stops it with moto's own code.
"""

import time
from collections.abc import Callable
from datetime import datetime

from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

Stop = Callable[..., None]
# The environment is built within milliseconds of the start; past this, the stop fails as before.
WAIT_FOR_ENVIRONMENT_SECONDS = 10.0
_POLL_SECONDS = 0.005


class MotoEarlyStops:
    def __init__(self) -> None:
        self._original: Stop | None = None

    def install(self) -> None:
        original: Stop = ExecutionWorker.stop
        self._original = original

        def stop(worker: ExecutionWorker, stop_date: datetime, error: str | None, cause: str | None) -> None:
            deadline = time.monotonic() + WAIT_FOR_ENVIRONMENT_SECONDS
            while worker.env is None and time.monotonic() < deadline:
                time.sleep(_POLL_SECONDS)
            original(worker, stop_date, error, cause)

        ExecutionWorker.stop = stop  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            ExecutionWorker.stop = self._original  # type: ignore[method-assign]
            self._original = None
