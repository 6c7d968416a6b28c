"""The local AWS endpoint: moto's threaded server, made to behave like AWS where our code can tell.

- DynamoDB's conditional writes are atomic; moto's are not when requests arrive at once (it checks the
  condition, then writes, with other requests' threads in between). Our hourly limit, idempotency records
  and retry claims rely on that atomicity, so DynamoDB requests are served one at a time.
- Every request is held against the role of whoever signed it (local/access.py).
"""

import threading
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from moto.server import ThreadedMotoServer

from local.access import AccessRecorder


def one_dynamodb_request_at_a_time(app: WSGIApplication) -> WSGIApplication:
    lock = threading.Lock()

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            # moto's reply is a list, built by the time app() returns: the write is complete inside the lock.
            return list(app(environ, start_response))

    return serve


class LocalAwsServer(ThreadedMotoServer):
    def __init__(self, recorder: AccessRecorder, ip_address: str, port: int) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self._recorder = recorder

    def start(self) -> None:
        super().start()
        assert self._server is not None
        # werkzeug looks its server's app up for each request, so from here on every request goes through.
        self._server.app = self._recorder.wrap(one_dynamodb_request_at_a_time(self._server.app))
