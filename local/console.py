"""What the offline stack prints while it runs: what its functions print, and (for `make run`) a line per API
request and per batch status change.

On Lambda a function's output goes to CloudWatch Logs, where its EMF lines become metrics: nobody reads it as
it comes. In a terminal, one JSON line per log call and per metric flush is a flood, so `make run` shows only
the functions' warnings and errors, one plain line each, unless LOG_LEVEL=DEBUG asks for everything. Tests
keep everything: they read the EMF lines.
"""

import json
import sys
import threading
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

# What Powertools' Logger adds to every line: the plain line shows the message and the keys the code added.
_POWERTOOLS_KEYS = frozenset(
    {
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "sampling_rate",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "correlation_id",
        "xray_trace_id",
        "exception",
        "stack_trace",
    }
)
_SHOWN_LEVELS = frozenset({"WARNING", "ERROR", "CRITICAL"})


class FunctionOutput(StrEnum):
    # Every line, as CloudWatch Logs would get it (JSON logs, EMF metrics).
    ALL = "all"
    # Warning and error logs only, one plain line each; lines that are not JSON (a stray print) as they are.
    WARNINGS = "warnings"


class Console:
    """Writes whole lines to stdout: the gateway's, moto's and the invoker's threads all print, and no line of
    one may end up inside another's."""

    def __init__(self, function_output: FunctionOutput = FunctionOutput.ALL) -> None:
        self.function_output = function_output
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            # sys.stdout as it is now: pytest swaps it for capture.
            sys.stdout.write(text if text.endswith("\n") else f"{text}\n")
            sys.stdout.flush()

    def function_printed(self, function: str, printed: str) -> None:
        """What one invocation of `function` (its logical id) printed."""
        if self.function_output is FunctionOutput.ALL:
            self.write(printed)
            return
        shown = (_plain_line(function, line) for line in printed.splitlines() if line.strip())
        self.write("".join(f"{line}\n" for line in shown if line is not None))

    def request(self, method: str, target: str, status: int, seconds: float) -> None:
        """One API request: `POST /batches 202 41ms` (the path only: a query may carry a page token)."""
        self.write(f"{method} {urlsplit(target).path} {status} {seconds * 1000:.0f}ms")


def _plain_line(function: str, line: str) -> str | None:
    """A warning or error log as one plain line; None for the other JSON lines (info logs, EMF metrics)."""
    try:
        record: Any = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict):
        return line
    level = record.get("level")
    if level not in _SHOWN_LEVELS:
        return None
    extra = [f"{key}={value}" for key, value in record.items() if key not in _POWERTOOLS_KEYS]
    return " ".join([function, str(level), str(record.get("message")), *extra])
