"""`make run` as a person uses it: the stack starts, serves, prints a line per request and per batch status change
(and no noise), and stops at once on signals, freeing its ports."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from tests.conftest import ROOT
from tests.integration.client import Api

PRICE = "content.update-price"
# What a normal run must not print: JSON logs and EMF lines (they start with "{"), warnings, stack traces, moto's
# complaints about the state machine.
NOISE = ("UserWarning", "Traceback", "NoSuchJsonPathError")
NAMES = ("HTTP API", "AWS endpoint")


class StackProcess:
    """`python -m local` in a process group of its own, its output read as it comes: a pipe nobody reads would
    block the stack once full."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._more = threading.Condition()
        self._ended = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._more:
                self.lines.append(line.rstrip("\n"))
                self._more.notify_all()
        with self._more:
            self._ended = True
            self._more.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first line matching `pattern`, once printed."""
        deadline = time.monotonic() + timeout
        with self._more:
            while True:
                found = next(filter(None, (re.search(pattern, line) for line in self.lines)), None)
                if found:
                    return found
                left = deadline - time.monotonic()
                assert not self._ended, f"the stack ended without printing {pattern!r}:\n" + "\n".join(self.lines)
                assert left > 0, f"no line {pattern!r} in {timeout} s; the last ones:\n" + "\n".join(self.lines[-30:])
                self._more.wait(left)

    def ports(self) -> tuple[int, int]:
        api, aws = (int(self.wait_for(rf"^\s+{name}\s+http://127\.0\.0\.1:(\d+)", 120)[1]) for name in NAMES)
        return api, aws

    def signal_group(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def ended(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code


@contextmanager
def stack_process(log_level: str | None) -> Iterator[StackProcess]:
    """The stack on free ports, with LOG_LEVEL set to `log_level` (None: unset, as `make run` has it)."""
    env = {k: v for k, v in os.environ.items() if k != "LOG_LEVEL"} | {"API_PORT": "0", "AWS_PORT": "0"}
    stack = StackProcess(env if log_level is None else env | {"LOG_LEVEL": log_level})
    try:
        yield stack
    finally:
        if stack.process.poll() is None:
            stack.signal_group(signal.SIGKILL)
            stack.process.wait()


def _port_is_free(port: int) -> bool:
    """Free for a new stack: bound as servers bind (connections of the old one may linger in TIME_WAIT)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_two_sigterms_to_the_process_group_stop_the_stack_promptly_and_free_its_ports() -> None:
    with stack_process(log_level="ERROR") as stack:
        ports = stack.ports()
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/openapi.json", timeout=10) as reply:
            assert reply.status == 200

        # What a process-group kill through make delivers: SIGTERM twice, close together.
        stack.signal_group(signal.SIGTERM)
        stack.signal_group(signal.SIGTERM)
        assert stack.ended(timeout=20) == 0
        assert all(_port_is_free(port) for port in ports)


def test_a_line_per_request_and_per_batch_status_change_and_no_noise() -> None:
    # LOG_LEVEL unset: the functions write their INFO logs, which must not show.
    with stack_process(log_level=None) as stack:
        api_port, _ = stack.ports()
        api = f"http://127.0.0.1:{api_port}"
        token = Api(api, None).request("POST", "/_local/token", {"sub": "watcher"}).body["token"]
        user = Api(api, token)
        content_id = user.create_content()["contentId"]
        stack.wait_for(r"^POST /content 201 \d+ms$")

        # A scheduled batch cancelled at once: its execution is stopped within milliseconds of its start, before
        # moto's worker has set it up (local/moto_early_stops.py; moto's server printed a traceback).
        cancelled = user.submit(PRICE, [content_id], {"newPrice": 9}, scheduledFor=_in(timedelta(hours=1)))
        assert user.request("POST", f"/batches/{cancelled['batchId']}/cancel").status == 202
        batch_id = user.submit(PRICE, [content_id, "missing-1"], {"newPrice": 7})["batchId"]
        stack.wait_for(rf"^batch {batch_id} completed 2/2 succeeded=1 failed=1 skipped=0$")
        stack.wait_for(r"^POST /batches 202 \d+ms$")
        # And one that runs at its time.
        scheduled = user.submit(PRICE, [content_id], {"newPrice": 8}, scheduledFor=_in(timedelta(seconds=2)))
        stack.wait_for(rf"^batch {scheduled['batchId']} completed 1/1 succeeded=1 failed=0 skipped=0$")
        stack.wait_for(rf"^batch {cancelled['batchId']} cancelled 0/1 succeeded=0 failed=0 skipped=0 cancelled=1$")
        stack.signal_group(signal.SIGTERM)
        assert stack.ended(timeout=20) == 0

    lines = stack.lines
    ours = [line for line in lines if line.startswith(f"batch {batch_id} ")]
    assert [line.split()[2] for line in ours][:2] == ["pending", "processing"]
    assert ours[-1].split()[2] == "completed"
    assert any(re.fullmatch(rf"batch {scheduled['batchId']} scheduled 0/1 .* for=\S+", line) for line in lines)
    noisy = [line for line in lines if line.startswith("{") or any(word in line for word in NOISE)]
    assert not noisy, "noise in the output:\n" + "\n".join(lines)


def _in(delay: timedelta) -> str:
    return (datetime.now(UTC) + delay).strftime("%Y-%m-%dT%H:%M:%SZ")
