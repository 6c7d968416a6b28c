"""The fork server: one process with the heavy libraries loaded, which forks each new execution environment.

A cold start then costs a fork and the handler's own import instead of a fresh interpreter importing
boto3, Powertools and pydantic. The stack starts it once; it never starts threads, so forking is safe
(the stack itself runs many threads: forking that would copy their locks mid-use).

Protocol, over a SOCK_SEQPACKET socket pair: the stack sends a pickled WorkerSpec with one end of a new
socket pair attached (SCM_RIGHTS); the server forks, the child serves that socket as its environment,
and the server answers with the child's pid. The server ends when the stack's end closes.
"""

import importlib
import json
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

import boto3

from local.worker import WorkerSpec, serve

# Imported once here, so that every environment starts with them loaded (their state is still per
# environment: it is copied at fork time). Nothing here reads the environment at import.
PRELOAD = (
    "pydantic",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.utilities.parser",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.tracing",
    "aws_xray_sdk.core",
    "batchops.operations.catalog",
)
# The services our handlers create clients for: their models are read from disk once, here.
_SERVICES = ("dynamodb", "stepfunctions", "s3", "events", "secretsmanager", "xray")
_MAX_SPEC_BYTES = 1 << 20


def _warm_botocore() -> None:
    """Load the service models into the default session's loader cache, which every child inherits.

    The clients get explicit credentials and region, so nothing about them is remembered by the session:
    each child still resolves its own from its environment."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    for service in _SERVICES:
        boto3.client(service, region_name="us-east-1", aws_access_key_id="warm", aws_secret_access_key="warm")  # noqa: S106 - no secret: warms a cache


def main() -> None:
    channel = socket.socket(fileno=int(sys.argv[1]))
    for name in PRELOAD:
        importlib.import_module(name)
    _warm_botocore()
    # Children are reaped by the kernel: the server never waits for them.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        message, fds, _, _ = socket.recv_fds(channel, _MAX_SPEC_BYTES, 1)
        if not message:
            return  # the stack is gone
        spec: WorkerSpec = pickle.loads(message)  # noqa: S301 - sent by the stack that started this process
        pid = os.fork()
        if pid == 0:
            channel.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                serve(Connection(fds[0]), spec)
            finally:
                os._exit(0)
        os.close(fds[0])
        channel.send(struct.pack("!i", pid))


class ForkServer:
    """The stack's handle on the fork server: `spawn` gives a new environment's pid and connection."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        code = "import sys, json; sys.path[:0] = json.loads(sys.argv[2]); from local.fork_server import main; main()"
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
            [sys.executable, "-c", code, str(theirs.fileno()), json.dumps([p for p in sys.path if p])],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._channel = ours
        self._lock = threading.Lock()

    def spawn(self, spec: WorkerSpec) -> tuple[int, Connection]:
        ours, theirs = socket.socketpair()
        with self._lock:
            socket.send_fds(self._channel, [pickle.dumps(spec)], [theirs.fileno()])
            reply = self._channel.recv(4)
        theirs.close()
        if len(reply) != 4:
            ours.close()
            raise OSError("the fork server is gone")
        (pid,) = struct.unpack("!i", reply)
        return pid, Connection(ours.detach())

    def stop(self) -> None:
        self._channel.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
