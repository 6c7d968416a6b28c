"""The boto3 clients of one execution environment: each made on first use, then shared by every adapter."""

import threading
from typing import Any

import boto3
from botocore.config import Config

from batchops.domain.chunks import MAX_THREADS_PER_CHUNK

_CONFIGS = {
    # Every item thread of a chunk talks to DynamoDB at once: a pool as big as the threads, plus the chunk's
    # own writes. (A pool only opens the connections it is asked for: elsewhere this costs nothing.)
    "dynamodb": Config(max_pool_connections=MAX_THREADS_PER_CHUNK + 5),
    # SigV4 links (reports, uploads) work in every region; SigV2 ones do not.
    "s3": Config(signature_version="s3v4"),
}


class AwsClients:
    """A client is thread-safe once made; making one is not, so the first use of each is serialised."""

    def __init__(self) -> None:
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @property
    def s3(self) -> Any:
        return self._client("s3")

    @property
    def stepfunctions(self) -> Any:
        return self._client("stepfunctions")

    @property
    def events(self) -> Any:
        return self._client("events")

    @property
    def secretsmanager(self) -> Any:
        return self._client("secretsmanager")

    def _client(self, service: str) -> Any:
        with self._lock:
            if service not in self._made:
                self._made[service] = boto3.client(service, config=_CONFIGS.get(service))
            return self._made[service]
