"""A programmable HTTP receiver: the downstream contract service (per content id) and webhook receivers."""

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


@dataclass(frozen=True)
class Call:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw or b"{}")


@dataclass
class ContractServer:
    """Behaviours are chosen by the second path segment: the content id of /content/{id}/..., the key of
    /hooks/{key}. A behaviour with `times` answers that many calls, then the default takes over."""

    behaviours: dict[str, list[Behaviour]] = field(default_factory=dict)
    default: Behaviour = field(default_factory=Behaviour)
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._peak = 0
        self._forever: dict[str, bool] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def behave(self, key: str, behaviour: Behaviour, times: int | None = None) -> None:
        """Answer calls for `key` this way: always, or for the next `times` calls only."""
        with self._lock:
            self.behaviours[key] = [behaviour] * times if times is not None else [behaviour]
            self._forever[key] = times is None

    def calls_for(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        return [(c.path, c.body) for c in self.raw_calls_for(key)]

    def raw_calls_for(self, key: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if _key(c.path) == key]

    def take_peak(self) -> int:
        """The most calls in flight at once since the last time this was asked."""
        with self._lock:
            peak, self._peak = self._peak, self._in_flight
        return peak

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _respond(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        key = _key(path)
        with self._lock:
            self.calls.append(Call(path, headers, raw))
            queue = self.behaviours.get(key, [])
            behaviour = queue[0] if queue else self.default
            if queue and not self._forever.get(key):
                queue.pop(0)
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
        try:
            if behaviour.delay_seconds:
                time.sleep(behaviour.delay_seconds)
        finally:
            with self._lock:
                self._in_flight -= 1
        reply = behaviour.body if behaviour.body is not None else {"txId": f"0x{uuid.uuid4().hex}"}
        return behaviour.status, json.dumps(reply).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, data = server._respond(self.path, headers, raw)
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


def _key(path: str) -> str:
    parts = path.split("/")
    return parts[2] if len(parts) > 2 else ""
