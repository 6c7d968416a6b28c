"""Runs our handlers in-process when moto's Lambda is invoked, with the environment the template gives them."""

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from moto.awslambda.models import LambdaFunction

from local.deploy import FunctionSpec

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The attributes of the real context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class Fault:
    """An invocation failure to simulate, as the Lambda service would report it, before the handler runs."""

    error_type: str
    matches: Callable[[Any], bool]
    remaining: int | None  # None: every matching invocation fails


class InProcessInvoker:
    def __init__(self) -> None:
        self._handlers: dict[str, tuple[FunctionSpec, Handler]] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._env_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._peak: dict[str, int] = {}
        self._calls: dict[str, int] = {}
        self._original: Any = None

    def register(self, spec: FunctionSpec) -> None:
        self._handlers[spec.name] = (spec, self._load(spec))

    def install(self) -> None:
        """Replace moto's Docker-based invocation with a call of our registered handler."""
        invoker = self
        self._original = LambdaFunction._invoke_lambda

        def invoke(fn: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            return invoker.invoke(fn.function_name, event)

        LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            LambdaFunction._invoke_lambda = self._original  # type: ignore[method-assign]
            self._original = None

    def invoke(self, function_name: str, event: Any) -> tuple[str, bool, str]:
        if function_name not in self._handlers:
            return json.dumps({"errorType": "ResourceNotFound", "errorMessage": function_name}), True, ""
        spec, handler = self._handlers[function_name]
        payload = json.loads(event) if isinstance(event, (str, bytes)) else (event or {})
        context = LambdaContext(
            function_name=spec.name,
            function_version="$LATEST",
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory_mb,
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{spec.name}",
            log_stream_name="local",
            deadline=time.monotonic() + spec.timeout,
        )
        self._enter(spec.logical_id)
        try:
            fault = self._take_fault(spec.logical_id, payload)
            if fault is not None:
                injected = {"errorMessage": "injected fault", "errorType": fault, "requestId": context.aws_request_id}
                return json.dumps(injected), True, ""
            result = handler(payload, context)
            return json.dumps(result), False, ""
        except Exception as e:  # noqa: BLE001 - reported to the caller exactly as Lambda reports it
            error = {
                "errorMessage": str(e),
                "errorType": type(e).__name__,
                "requestId": context.aws_request_id,
                "stackTrace": traceback.format_tb(e.__traceback__),
            }
            return json.dumps(error), True, ""
        finally:
            self._leave(spec.logical_id)

    def inject_fault(
        self, logical_id: str, error_type: str, when: Callable[[Any], bool] = lambda _: True, times: int | None = None
    ) -> None:
        """Make matching invocations of a function fail with `error_type`, `times` times (None: always)."""
        with self._stats_lock:
            self._faults.setdefault(logical_id, []).append(Fault(error_type, when, times))

    def clear_faults(self) -> None:
        with self._stats_lock:
            self._faults.clear()

    def _take_fault(self, logical_id: str, payload: Any) -> str | None:
        with self._stats_lock:
            for fault in self._faults.get(logical_id, []):
                if fault.remaining != 0 and fault.matches(payload):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault.error_type
        return None

    def peak_concurrency(self, logical_id: str) -> int:
        with self._stats_lock:
            return self._peak.get(logical_id, 0)

    def calls(self, logical_id: str) -> int:
        with self._stats_lock:
            return self._calls.get(logical_id, 0)

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._peak.clear()
            self._calls.clear()

    def _enter(self, logical_id: str) -> None:
        with self._stats_lock:
            running = self._running.get(logical_id, 0) + 1
            self._running[logical_id] = running
            self._peak[logical_id] = max(self._peak.get(logical_id, 0), running)
            self._calls[logical_id] = self._calls.get(logical_id, 0) + 1

    def _leave(self, logical_id: str) -> None:
        with self._stats_lock:
            self._running[logical_id] -= 1

    def _load(self, spec: FunctionSpec) -> Handler:
        module_file, _, attribute = spec.handler.rpartition(".")
        path = spec.code_dir / (module_file.replace(".", "/") + ".py")
        for layer in spec.layer_dirs:
            # The Lambda runtime puts a layer's python/ on sys.path; `sam build` makes our layer's root that.
            if str(layer) not in sys.path:
                sys.path.append(str(layer))
        # Handlers read their configuration at import time (module-scope wiring), so each module is
        # imported under its own function's environment, one at a time.
        with self._env_lock, _environment(spec.environment):
            module = _import(f"batchops_fn_{spec.logical_id}", path)
        handler: Handler = getattr(module, attribute)
        return handler


def _import(module_name: str, path: Any) -> ModuleType:
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load handler module {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    return module


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
