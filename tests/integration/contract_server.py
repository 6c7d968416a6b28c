"""A stand-in for the downstream contract service, programmable per content id."""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    status: int = 200
    delay_seconds: float = 0.0
    body: Any = None  # None: a JSON object with a fresh txId


@dataclass
class ContractServer:
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    default: Behaviour = field(default_factory=Behaviour)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def behave(self, content_id: str, behaviour: Behaviour) -> None:
        with self._lock:
            self.behaviours[content_id] = behaviour

    def calls_for(self, content_id: str) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return [c for c in self.calls if f"/content/{content_id}/" in c[0]]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _respond(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        content_id = path.split("/")[2] if path.count("/") >= 3 else ""
        with self._lock:
            self.calls.append((path, body))
            behaviour = self.behaviours.get(content_id, self.default)
        if behaviour.delay_seconds:
            time.sleep(behaviour.delay_seconds)
        reply = behaviour.body if behaviour.body is not None else {"txId": f"0x{uuid.uuid4().hex}"}
        return behaviour.status, json.dumps(reply).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, data = server._respond(self.path, body)
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller timed out first, as intended by a delay behaviour

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

        return Handler
