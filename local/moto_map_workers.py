"""moto's Distributed Map workers, made to go through any number of items.

A worker of moto's Distributed Map evaluates an item, then calls itself for the next one: the recursion
is one level per item, so a worker given more than ~1,000 items (a 100,000-item batch has 1,000 chunks at
the default chunk size, and one worker when one chunk runs at a time) ends in a RecursionError and the
Map fails. Here the worker's call for the next item is deferred: each item is evaluated at the same depth,
in a loop, by moto's own code.
"""

from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    distributed_item_processor_worker as workers,
)

Worker = workers.DistributedItemProcessorWorker
EvalPool = Callable[[Any, Any, Any], None]


class MotoMapWorkers:
    def __init__(self) -> None:
        self._original: EvalPool | None = None

    def install(self) -> None:
        original: EvalPool = Worker._eval_pool
        self._original = original

        def eval_pool(worker: Any, job: Any, worker_frame: Any) -> None:
            pending = [(job, worker_frame)]

            def defer(job: Any, worker_frame: Any) -> None:
                pending.append((job, worker_frame))

            # moto's call for the next item finds this instance attribute before its class's method.
            worker._eval_pool = defer
            try:
                while pending:
                    original(worker, *pending.pop())
            finally:
                del worker._eval_pool

        Worker._eval_pool = eval_pool  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            Worker._eval_pool = self._original  # type: ignore[method-assign,assignment]
            self._original = None
