"""moto's Distributed Map workers, made to go through any number of items and to fail a Map Run as AWS does.

- A worker of moto's Distributed Map evaluates an item, then calls itself for the next one: the recursion
  is one level per item, so a worker given more than ~1,000 items (a 100,000-item batch has 1,000 chunks at
  the default chunk size, and one worker when one chunk runs at a time) ends in a RecursionError and the
  Map fails. Here the worker's call for the next item is deferred: each item is evaluated at the same depth,
  in a loop, by moto's own code.
- moto parses `ToleratedFailureCount` / `ToleratedFailurePercentage` but never applies them: every child
  failure is tolerated. On AWS the Map Run fails with `States.ExceedToleratedFailureThreshold` once failed
  children exceed them (both default to 0). The workflow relies on that to end a round early (a stopped
  batch's children fail at once), so a worker here ends the Map Run the same way.
"""

from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    distributed_item_processor_worker as workers,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

Worker = workers.DistributedItemProcessorWorker
EvalPool = Callable[[Any, Any, Any], None]
EvalJob = Callable[[Any, Any, Any], None]
_EXCEEDED = StatesErrorNameType.StatesExceedToleratedFailureThreshold


def exceeds_tolerance(failed: int, total: int, count: int, percentage: float) -> bool:
    """AWS's rule: the Map Run fails once failed items exceed the tolerated count or percentage. moto cannot
    tell an unset field from 0, so a field left at 0 beside a set one is taken as unset."""
    over_count = failed > count
    over_percentage = failed * 100 > percentage * total
    if percentage and not count:
        return over_percentage
    if count and not percentage:
        return over_count
    return over_count or over_percentage


class MotoMapWorkers:
    def __init__(self) -> None:
        self._originals: tuple[EvalPool, EvalJob] | None = None

    def install(self) -> None:
        original_pool: EvalPool = Worker._eval_pool
        original_job: EvalJob = Worker._eval_job
        self._originals = (original_pool, original_job)

        def eval_pool(worker: Any, job: Any, worker_frame: Any) -> None:
            pending = [(job, worker_frame)]

            def defer(job: Any, worker_frame: Any) -> None:
                pending.append((job, worker_frame))

            # moto's call for the next item finds this instance attribute before its class's method.
            worker._eval_pool = defer
            try:
                while pending:
                    original_pool(worker, *pending.pop())
            finally:
                del worker._eval_pool

        def eval_job(worker: Any, env: Any, job: Any) -> None:
            record = worker._map_run_record
            original_job(worker, env, job)
            failed = record.item_counter.failed.get() + record.item_counter.timed_out.get()
            total = worker._job_pool._jobs_number
            if failed and exceeds_tolerance(
                failed, total, record.tolerated_failure_count, record.tolerated_failure_percentage
            ):
                # An exception as the job's output is how moto's job pool ends the Map Run with an error.
                job.job_output = FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(typ=_EXCEEDED),
                        event_type=HistoryEventType.MapRunFailed,
                        # One kind of detail is set, as moto itself does; its TypedDict declares them all.
                        event_details=EventDetails(  # type: ignore[typeddict-item]
                            mapRunFailedEventDetails=MapRunFailedEventDetails(
                                error=_EXCEEDED.to_name(),
                                cause=f"{failed} of {total} items failed, more than the Map tolerates",
                            )
                        ),
                    )
                )

        Worker._eval_pool = eval_pool  # type: ignore[method-assign,assignment]
        Worker._eval_job = eval_job  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._originals is not None:
            Worker._eval_pool, Worker._eval_job = self._originals  # type: ignore[method-assign,assignment]
            self._originals = None
