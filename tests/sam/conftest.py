"""SAM CLI against the local stack: `sam build` once, then containers that talk to the stack's backends.

Needs a Docker engine and the Lambda python3.12 image (`make sam-image` builds one offline) and the SAM
CLI (`make sam-venv`); `make sam-test` sees to all three. Every SAM command runs with a timeout.
"""

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.sam_local import SamLocalConfig, write_sam_local_config
from local.stack import OfflineStack, StackConfig
from tests.conftest import ROOT

REGION = "us-east-1"


def _sam_binary() -> str:
    found = shutil.which("sam")
    if found is None:
        pytest.fail("no `sam` on PATH: run `make sam-test`, which installs SAM CLI in .venv-sam")
    return found


def sam_command(*args: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
    # Dummy credentials: SAM passes the caller's into the containers, and the local stack takes any.
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    return [_sam_binary(), *args], env


def run_sam(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    argv, env = sam_command(*args)
    return subprocess.run(  # noqa: S603 - our own command line
        argv, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def last_json(output: str) -> Any:
    """`sam local invoke` prints the function's reply as the last line of stdout."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "sam local invoke printed no reply"
    return json.loads(lines[-1])


@pytest.fixture(scope="session")
def stack() -> Iterator[OfflineStack]:
    # Containers reach the stack through the docker bridge (host.docker.internal), not loopback.
    config = StackConfig(api_port=0, aws_port=0, host="0.0.0.0", stack_name="batchops-sam")  # noqa: S104
    running = OfflineStack(config).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sam_local(stack: OfflineStack, tmp_path_factory: pytest.TempPathFactory) -> SamLocalConfig:
    return write_sam_local_config(stack, tmp_path_factory.mktemp("sam-local"))


@pytest.fixture(scope="session")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dir = tmp_path_factory.mktemp("sam-build")
    result = run_sam("build", "--build-dir", str(build_dir), "--region", REGION, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return build_dir / "template.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def start_api(
    built_template: Path, sam_local: SamLocalConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`sam local start-api` serving the template's HTTP API from containers; yields its base URL."""
    port = _free_port()
    argv, env = sam_command(
        "local",
        "start-api",
        "-t",
        str(built_template),
        "-p",
        str(port),
        "--warm-containers",
        "LAZY",
        *sam_local.options(),
    )
    log_path = tmp_path_factory.mktemp("start-api") / "sam.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sam local start-api is not listening on {port}:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
