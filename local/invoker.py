"""Runs our handlers when moto's Lambda is invoked: each invocation in an execution environment of its own.

Like Lambda, an environment (a worker process, local/worker.py) runs one event at a time; concurrent
invocations of a function get separate environments, started on demand (cold starts) and reused while
warm. Workers fork from a server that has the heavy libraries imported already (local/fork_server.py),
so a cold start costs a fraction of a second, not a fresh interpreter's.
"""

import contextlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from moto.awslambda.models import LambdaFunction

from local.deploy import FunctionSpec
from local.fork_server import ForkServer
from local.worker import Reply, WorkerSpec, error_payload

Output = Callable[[str, str], None]
_STOPPING = "the local stack is stopping"
# Lambda keeps idle environments for minutes; these are retired sooner, to keep the stack small.
IDLE_SECONDS = 60.0


@dataclass
class Fault:
    """An invocation failure to simulate, as the Lambda service would report it: before the handler runs, or
    (with `crash_after`) a crash of its environment that many seconds into the invocation."""

    error_type: str
    matches: Callable[[Any], bool]
    remaining: int | None  # None: every matching invocation fails
    crash_after: float | None = None


@dataclass
class _Environment:
    pid: int
    conn: Connection
    idle_since: float = field(default_factory=time.monotonic)

    def retire(self) -> None:
        self.conn.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class _Pool:
    """A function's execution environments: the idle ones wait here, the busy ones are out on an event."""

    def __init__(self, spec: FunctionSpec, worker: WorkerSpec) -> None:
        self.spec = spec
        self.worker = worker
        self._idle: list[_Environment] = []
        self._lock = threading.Lock()

    def acquire(self, forks: ForkServer) -> tuple[_Environment | str, str]:
        """A warm environment, or a new one, with what its init printed; the error payload if init failed."""
        with self._lock:
            if self._idle:
                return self._idle.pop(), ""
        try:
            pid, conn = forks.spawn(self.worker)
        except OSError:
            # The fork server is gone: the stack is stopping, with an invocation still arriving (EventBridge's).
            return error_payload("ServiceException", _STOPPING, ""), ""
        environment = _Environment(pid, conn)
        try:
            failed, payload, printed = conn.recv()
        except (EOFError, OSError):
            failed, payload, printed = True, error_payload("Runtime.ExitError", "the runtime exited at init", ""), ""
        if failed:
            environment.retire()
            return payload, printed
        return environment, printed

    def release(self, environment: _Environment) -> None:
        now = time.monotonic()
        with self._lock:
            environment.idle_since = now
            self._idle.append(environment)
            stale = [e for e in self._idle if now - e.idle_since > IDLE_SECONDS]
            self._idle = [e for e in self._idle if e not in stale]
        for old in stale:
            old.retire()

    def retire_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for environment in idle:
            environment.retire()


class LambdaInvoker:
    def __init__(self, output: Output) -> None:
        # Where what each invocation printed goes (the function's logical id, the text), as Lambda sends it to
        # CloudWatch Logs.
        self._output = output
        self._forks: ForkServer | None = None
        self._pools: dict[str, _Pool] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._stats_lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._peak: dict[str, int] = {}
        self._calls: dict[str, int] = {}
        # Wall time of the invocations that ran (ms), per function: what Lambda bills, as measured here.
        self._busy_ms: dict[str, float] = {}
        self._original: Any = None

    def register(self, spec: FunctionSpec, runtime: Mapping[str, str]) -> None:
        """Deploy a function: `runtime` is what every environment of this stack gets (endpoint, region)."""
        environment = {
            # What the Lambda runtime sets; tracing is off, as no X-Ray daemon listens here.
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "POWERTOOLS_TRACE_DISABLED": "true",
            **runtime,
            # The function's role, as the local AWS endpoint tells callers apart: the key id names it.
            "AWS_ACCESS_KEY_ID": spec.logical_id,
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            **spec.environment,
        }
        worker = WorkerSpec(
            function_name=spec.name,
            function_arn=spec.arn,
            handler=spec.handler,
            code_dir=spec.code_dir,
            layer_dirs=tuple(spec.layer_dirs),
            memory_mb=spec.memory_mb,
            environment=environment,
        )
        self._pools[spec.name] = _Pool(spec, worker)

    def install(self) -> None:
        """Replace moto's Docker-based invocation with one in our workers."""
        layers = {str(d) for pool in self._pools.values() for d in pool.worker.layer_dirs}
        # The fork server starts with this process's sys.path: it must find the layer to preload it.
        sys.path.extend(d for d in sorted(layers) if d not in sys.path)
        self._forks = ForkServer()
        invoker = self
        self._original = LambdaFunction._invoke_lambda

        def invoke(fn: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            return invoker.invoke(fn.function_name, event)

        LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            LambdaFunction._invoke_lambda = self._original  # type: ignore[method-assign]
            self._original = None
        for pool in self._pools.values():
            pool.retire_all()
        if self._forks is not None:
            self._forks.stop()
            self._forks = None

    def invoke(self, function_name: str, event: Any) -> tuple[str, bool, str]:
        """One invocation, as moto reports it: (payload JSON, failed, logs)."""
        pool = self._pools.get(function_name)
        request_id = str(uuid.uuid4())
        if pool is None:
            return error_payload("ResourceNotFoundException", function_name, request_id), True, ""
        event_json = _as_json(event)
        logical_id = pool.spec.logical_id
        self._enter(logical_id)
        try:
            fault = self._take_fault(logical_id, event_json)
            if fault is not None and fault.crash_after is None:
                return error_payload(fault.error_type, "injected fault", request_id), True, ""
            crash_after = fault.crash_after if fault is not None else None
            started = time.monotonic()
            failed, payload, printed = self._run(pool, event_json, request_id, crash_after)
            with self._stats_lock:
                self._busy_ms[logical_id] = self._busy_ms.get(logical_id, 0.0) + (time.monotonic() - started) * 1000
        finally:
            self._leave(logical_id)
        self._output(logical_id, printed)
        return payload, failed, ""

    def _run(self, pool: _Pool, event_json: str, request_id: str, crash_after: float | None = None) -> Reply:
        forks = self._forks
        if forks is None:
            return True, error_payload("ServiceException", _STOPPING, request_id), ""
        environment, init_output = pool.acquire(forks)
        if isinstance(environment, str):
            return True, environment, init_output
        # As on Lambda, the function's timeout counts from the invocation, not from the environment's init.
        timeout = float(pool.spec.timeout)
        crash, killed = None, threading.Event()
        if crash_after is not None:
            # The environment dies mid-invocation (out of memory, a segfault): Lambda reports Runtime.ExitError.
            def kill(pid: int = environment.pid) -> None:
                killed.set()
                os.kill(pid, signal.SIGKILL)

            crash = threading.Timer(crash_after, kill)
            crash.start()
        try:
            environment.conn.send((event_json, request_id, timeout))
            if not environment.conn.poll(timeout):
                # Lambda ends the environment of an invocation that outlives the function's timeout.
                environment.retire()
                message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
                return True, error_payload("Sandbox.Timedout", message, request_id), init_output
            failed, payload, printed = environment.conn.recv()
        except (EOFError, OSError):
            environment.retire()
            message = f"RequestId: {request_id} Error: Runtime exited without providing a reason"
            return True, error_payload("Runtime.ExitError", message, request_id), init_output
        finally:
            if crash is not None:
                crash.cancel()
        if killed.is_set():
            environment.retire()  # killed just after it answered: it serves no other invocation
        else:
            pool.release(environment)
        return failed, payload, init_output + printed

    def inject_fault(
        self, logical_id: str, error_type: str, when: Callable[[Any], bool] = lambda _: True, times: int | None = None
    ) -> None:
        """Make matching invocations of a function fail with `error_type`, `times` times (None: always)."""
        with self._stats_lock:
            self._faults.setdefault(logical_id, []).append(Fault(error_type, when, times))

    def crash_during(
        self, logical_id: str, after_seconds: float, when: Callable[[Any], bool] = lambda _: True, times: int = 1
    ) -> None:
        """Kill the environment of matching invocations `after_seconds` into them, `times` times."""
        with self._stats_lock:
            self._faults.setdefault(logical_id, []).append(Fault("crash", when, times, after_seconds))

    def clear_faults(self) -> None:
        with self._stats_lock:
            self._faults.clear()

    def _take_fault(self, logical_id: str, event_json: str) -> Fault | None:
        with self._stats_lock:
            faults = self._faults.get(logical_id, [])
        if not faults:
            return None
        payload = _json_or_none(event_json)
        with self._stats_lock:
            for fault in faults:
                if fault.remaining != 0 and fault.matches(payload):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def peak_concurrency(self, logical_id: str) -> int:
        with self._stats_lock:
            return self._peak.get(logical_id, 0)

    def calls(self, logical_id: str) -> int:
        with self._stats_lock:
            return self._calls.get(logical_id, 0)

    def busy_ms(self, logical_id: str) -> float:
        with self._stats_lock:
            return self._busy_ms.get(logical_id, 0.0)

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._peak.clear()
            self._calls.clear()
            self._busy_ms.clear()

    def _enter(self, logical_id: str) -> None:
        with self._stats_lock:
            running = self._running.get(logical_id, 0) + 1
            self._running[logical_id] = running
            self._peak[logical_id] = max(self._peak.get(logical_id, 0), running)
            self._calls[logical_id] = self._calls.get(logical_id, 0) + 1

    def _leave(self, logical_id: str) -> None:
        with self._stats_lock:
            self._running[logical_id] -= 1


def _as_json(event: Any) -> str:
    """moto hands over the payload as text or bytes; the local EventBridge, as a dict."""
    if isinstance(event, bytes):
        return event.decode()
    return event if isinstance(event, str) else json.dumps(event)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
