"""`make run` as a person uses it: the stack starts, serves, and stops at once on signals, freeing its ports."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from tests.conftest import ROOT


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
    env = {**os.environ, "API_PORT": "0", "AWS_PORT": "0", "LOG_LEVEL": "ERROR"}
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        ports: list[int] = []
        deadline = time.monotonic() + 120
        while len(ports) < 2 and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "the stack exited before it was up"
            found = re.search(r"^\s+(HTTP API|AWS endpoint)\s+http://127\.0\.0\.1:(\d+)", line)
            if found:
                ports.append(int(found[2]))
        assert len(ports) == 2, "the stack did not print its endpoints in time"
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/openapi.json", timeout=10) as reply:
            assert reply.status == 200

        # What a process-group kill through make delivers: SIGTERM twice, close together.
        os.killpg(process.pid, signal.SIGTERM)
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert all(_port_is_free(port) for port in ports)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
