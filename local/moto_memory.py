"""What moto holds on to that nothing reads, let go, so a long session's memory levels off.

- moto's BaseModel appends every model instance it ever creates to its class's `instances_tracked` list
  (read only by the /moto-api dashboard and S3's reset). DynamoDB creates throwaway Items on every
  UpdateItem (two copies of the old item) and Query (a copy of each result): 8 dead Items per batch
  item stayed reachable, the bulk of the stack's growth. The list becomes one of weak references: its
  readers still see every live instance; the dead ones are freed.
- moto's Step Functions interpreter appends every thread it starts (one per execution, Map iteration
  and task state, at least two per batch item) to `TMP_THREADS`, which nothing reads. Each execution
  start drops the threads that have finished.
"""

import itertools
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.core.common_models import BaseModel
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.utils import TMP_THREADS


class LiveInstances:
    """The `instances_tracked` of a model class, as moto reads it (append, iterate), without keeping
    the instances alive. Keyed by a counter: a DynamoDB Item is unhashable."""

    def __init__(self, instances: Iterable[object] = ()) -> None:
        self._instances: weakref.WeakValueDictionary[int, object] = weakref.WeakValueDictionary()
        self._keys = itertools.count()
        for instance in instances:
            self.append(instance)

    def append(self, instance: object) -> None:
        self._instances[next(self._keys)] = instance

    def __iter__(self) -> Iterator[object]:
        # valuerefs() copies at once: other threads add and free instances while a reader iterates.
        alive = (ref() for ref in self._instances.valuerefs())
        return (instance for instance in alive if instance is not None)

    def __len__(self) -> int:
        return len(self._instances)


class MotoMemory:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # BaseModel's __new__ (the staticmethod itself, to put it back as it was) and ExecutionWorker.start.
        self._originals: tuple[Any, Callable[[ExecutionWorker], None]] | None = None

    def install(self) -> None:
        memory = self
        new = BaseModel.__dict__["__new__"]
        start: Callable[[ExecutionWorker], None] = ExecutionWorker.start
        self._originals = new, start

        def new_tracked_weakly(cls: type, *args: Any, **kwargs: Any) -> Any:
            # Each model class gets its list when moto imports the class, and a fresh one at each moto
            # reset: whichever list a class has, it is made weak before an instance goes into it.
            if not isinstance(cls.__dict__.get("instances_tracked"), LiveInstances):
                memory._track_weakly(cls)
            return new.__func__(cls, *args, **kwargs)

        def start_dropping_finished(worker: ExecutionWorker) -> None:
            # A thread appended meanwhile may be dropped too: harmless, as nothing reads the list.
            TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
            start(worker)

        BaseModel.__new__ = staticmethod(new_tracked_weakly)  # type: ignore[method-assign]
        ExecutionWorker.start = start_dropping_finished  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._originals is not None:
            BaseModel.__new__, ExecutionWorker.start = self._originals  # type: ignore[method-assign]
            self._originals = None

    def _track_weakly(self, cls: type) -> None:
        with self._lock:
            tracked = cls.__dict__.get("instances_tracked", [])
            if not isinstance(tracked, LiveInstances):
                cls.instances_tracked = LiveInstances(tracked)  # type: ignore[attr-defined]
