"""The local AWS endpoint: moto's threaded server, made to behave like AWS where our code can tell.

- DynamoDB's conditional writes are atomic; moto's are not when requests arrive at once (it checks the
  condition, then writes, with other requests' threads in between). Our hourly limit, idempotency records
  and retry claims rely on that atomicity, so each operation on DynamoDB's tables runs alone.
- Every request is held against the role of whoever signed it (local/access.py).
- moto finds the service of each request by listing its own package directory and trying its ~2,000 URL
  patterns, under one lock: milliseconds per request, on the path of every DynamoDB call. The answer for a
  host never changes, so it is looked up once per host.
"""

import functools
import threading
from collections.abc import Callable
from typing import Any
from wsgiref.types import WSGIApplication

from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer

from local.access import AccessRecorder

# What DynamoDB does to its tables (moto's backend): each runs alone, as one operation does on AWS.
_TABLE_OPERATIONS = (
    "put_item",
    "get_item",
    "query",
    "scan",
    "update_item",
    "delete_item",
    "transact_write_items",
    "transact_get_items",
    "batch_get_item",
    "batch_write_item",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)


class OneTableOperationAtATime:
    """moto's DynamoDB backend with each table operation under one lock. Parsing a request and writing its
    reply (most of moto's work) stay outside it: only what reads or changes items is serialized."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._originals: dict[str, Callable[..., Any]] = {}

    def install(self) -> None:
        for name in _TABLE_OPERATIONS:
            original = getattr(DynamoDBBackend, name)
            self._originals[name] = original
            setattr(DynamoDBBackend, name, self._locked(original))

    def uninstall(self) -> None:
        for name, original in self._originals.items():
            setattr(DynamoDBBackend, name, original)
        self._originals.clear()

    def _locked(self, operation: Callable[..., Any]) -> Callable[..., Any]:
        lock = self._lock

        @functools.wraps(operation)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return operation(*args, **kwargs)

        return locked


class LocalAwsServer(ThreadedMotoServer):
    def __init__(self, recorder: AccessRecorder, ip_address: str, port: int) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self._recorder = recorder
        self._tables = OneTableOperationAtATime()

    def start(self) -> None:
        self._tables.install()
        super().start()
        assert self._server is not None
        dispatcher: Any = self._server.app
        dispatcher.get_backend_for_host = functools.lru_cache(maxsize=128)(dispatcher.get_backend_for_host)
        # werkzeug looks its server's app up for each request, so from here on every request goes through.
        self._server.app = self._recorder.wrap(self._server.app)

    def wrap(self, middleware: Callable[[WSGIApplication], WSGIApplication]) -> None:
        """Put `middleware` in front of every request from now on (make cost meters the requests)."""
        assert self._server is not None, "start() first"
        self._server.app = middleware(self._server.app)

    def stop(self) -> None:
        super().stop()
        self._tables.uninstall()
