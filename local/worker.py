"""One Lambda execution environment: a process that loads one function's handler and runs one event at a time.

The parent (local/invoker.py) starts one per concurrent invocation, as Lambda scales out, and reuses idle
ones, as Lambda keeps warm environments. Each has its own module state, environment variables and
credentials, so two invocations never share a Powertools app, a logger's keys or a cached client.
"""

import importlib
import io
import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# What a request to a worker holds, and what it answers.
Request = tuple[str, str, float]  # (event JSON, request id, seconds left)
Reply = tuple[bool, str, str]  # (failed, payload JSON, what the handler printed)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to become one function's environment (picklable: it crosses a process boundary)."""

    function_name: str
    function_arn: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    memory_mb: int
    environment: dict[str, str]


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


class _Output(io.TextIOBase):
    """Collects what the handler prints (logs, EMF metrics) so the parent prints it, per invocation."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self._parts = "".join(self._parts), []
        return text


def error_payload(error_type: str, message: str, request_id: str, trace: list[str] | None = None) -> str:
    """A failed invocation's payload, shaped as Lambda reports it."""
    payload: dict[str, Any] = {"errorMessage": message, "errorType": error_type, "requestId": request_id}
    if trace is not None:
        payload["stackTrace"] = trace
    return json.dumps(payload)


def serve(conn: Connection, spec: WorkerSpec) -> None:
    """The worker's main loop: load the handler under the function's environment, then answer events."""
    # Ctrl-C reaches the whole process group; the parent stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(spec.environment)
    # Like the Lambda runtime: the function's code first, then each layer's python/ (our layer's root).
    sys.path[:0] = [str(spec.code_dir)]
    sys.path.extend(str(d) for d in spec.layer_dirs if str(d) not in sys.path)
    output = _Output()
    sys.stdout = sys.stderr = output
    module_name, _, attribute = spec.handler.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
    except Exception as e:  # noqa: BLE001 - an init error is reported like Lambda's, then the worker ends
        conn.send((True, error_payload("Runtime.ImportModuleError", f"{type(e).__name__}: {e}", ""), output.take()))
        return
    conn.send((False, "null", output.take()))
    while True:
        try:
            event_json, request_id, seconds_left = conn.recv()
        except EOFError:
            return  # the parent is gone or retired this environment
        context = LambdaContext(
            function_name=spec.function_name,
            function_version="$LATEST",
            invoked_function_arn=spec.function_arn,
            memory_limit_in_mb=spec.memory_mb,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{spec.function_name}",
            log_stream_name="local",
            deadline=time.monotonic() + seconds_left,
        )
        try:
            reply: Reply = (False, json.dumps(handler(json.loads(event_json), context)), output.take())
        except Exception as e:  # noqa: BLE001 - reported to the caller exactly as Lambda reports it
            trace = traceback.format_tb(e.__traceback__)
            reply = (True, error_payload(type(e).__name__, str(e), request_id, trace), output.take())
        conn.send(reply)
