"""An HTTP API Gateway stand-in: the template's routes, its JWT authorizer, payload format 2.0."""

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.deploy import Deployment, Route
from local.docs import DOCS_PATH, docs_response
from local.http_event import payload_v2_event
from local.issuer import LocalIssuer, TokenRejectedError

LOCAL_PREFIX = "/_local"
_log = logging.getLogger("batchops.local")
# HTTP API's payload limit: a larger request body is refused with a 413 before any function runs.
MAX_BODY_BYTES = 10 * 1024 * 1024
# A client that sends less than its Content-Length announced is cut off after this long (the HTTP API's
# integration timeout), rather than holding a thread forever.
_READ_TIMEOUT_SECONDS = 30
RequestListener = Callable[[str, str, int, float], None]


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a burst of connections would be reset, as no API Gateway does.
    request_queue_size = 1024
    daemon_threads = True


@dataclass(frozen=True)
class _Match:
    route: Route
    path_parameters: dict[str, str]


def _pattern(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(f"^{regex}$")


class LocalGateway:
    def __init__(
        self, host: str, port: int, issuer: LocalIssuer, lambda_client: Any, on_request: RequestListener | None = None
    ) -> None:
        # Told of each request once answered: method, target, status and seconds (`make run` prints a line).
        self.on_request = on_request
        self._issuer = issuer
        self._lambda = lambda_client
        self._routes: list[tuple[re.Pattern[str], Route]] = []
        self._deployment: Deployment | None = None
        self._server = _Server((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def serve(self, deployment: Deployment) -> None:
        self._deployment = deployment
        self._routes = [(_pattern(r.path), r) for r in deployment.routes]
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        if url.path.startswith(LOCAL_PREFIX):
            return self._local(method, url.path, body)
        if method == "GET" and (url.path == DOCS_PATH or url.path.startswith(f"{DOCS_PATH}/")):
            status, content_type, page = docs_response(url.path)
            return status, {"content-type": content_type}, page
        match = self._match(method, url.path)
        if match is None:
            return _json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
        claims: dict[str, Any] | None = None
        if match.route.authorized and self._deployment and self._deployment.authorizer:
            claims = self._authorize(headers.get("authorization", ""))
            if claims is None:
                return _json(
                    HTTPStatus.UNAUTHORIZED,
                    {"message": "Unauthorized"},
                    {"www-authenticate": 'Bearer error="invalid_token"'},
                )
        route_key = f"{match.route.method} {match.route.path}"
        event = payload_v2_event(
            route_key, method, url.path, url.query, headers, body, source_ip, match.path_parameters, claims
        )
        return self._invoke(match.route.function, event)

    def _match(self, method: str, path: str) -> _Match | None:
        for pattern, route in self._routes:
            m = pattern.match(path)
            if m and route.method in (method, "ANY"):
                return _Match(route, m.groupdict())
        return None

    def _authorize(self, header: str) -> dict[str, Any] | None:
        assert self._deployment is not None and self._deployment.authorizer is not None
        token = header.removeprefix("Bearer ").strip()
        if not token:
            return None
        authorizer = self._deployment.authorizer
        try:
            return self._issuer.verify(token, authorizer.issuer, authorizer.audience)
        except TokenRejectedError:
            return None

    def _invoke(self, function: str, event: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        assert self._deployment is not None
        name = self._deployment.functions[function].name
        reply = self._lambda.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        payload = json.loads(reply["Payload"].read() or b"null")
        if reply.get("FunctionError"):
            _log.error(
                "%s failed: %s: %s\n%s",
                name,
                payload.get("errorType"),
                payload.get("errorMessage"),
                "".join(payload.get("stackTrace", [])[-3:]),
            )
            return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"})
        if not isinstance(payload, dict) or "statusCode" not in payload:
            # Payload format 2.0: a reply without statusCode is the JSON body of a 200.
            return _json(HTTPStatus.OK, payload)
        headers = {k.lower(): str(v) for k, v in (payload.get("headers") or {}).items()}
        for name_, values in (payload.get("multiValueHeaders") or {}).items():
            headers[name_.lower()] = ", ".join(str(v) for v in values)
        raw = payload.get("body") or ""
        data = base64.b64decode(raw) if payload.get("isBase64Encoded") else str(raw).encode()
        return int(payload["statusCode"]), headers, data

    def _local(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Routes of the local stack only, never in template.yaml: the token issuer and its introspection."""
        if method == "POST" and path == f"{LOCAL_PREFIX}/token":
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                return _json(HTTPStatus.BAD_REQUEST, _local_error("body", "not valid JSON"))
            sub, groups = request.get("sub"), request.get("groups", [])
            if not isinstance(sub, str) or not sub.strip():
                return _json(HTTPStatus.BAD_REQUEST, _local_error("sub", "a non-empty string is required"))
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                return _json(HTTPStatus.BAD_REQUEST, _local_error("groups", "a list of strings is required"))
            return _json(HTTPStatus.OK, {"token": self._issuer.issue(sub, groups), "expiresIn": 3600})
        if method == "GET" and path == f"{LOCAL_PREFIX}/.well-known/jwks.json":
            return _json(HTTPStatus.OK, self._issuer.jwks())
        if method == "POST" and path == f"{LOCAL_PREFIX}/introspect":
            # RFC 7662, for `sam local start-api` (no JWT authorizer there): the same checks as ours.
            token = dict(parse_qsl(body.decode(errors="replace"))).get("token", "")
            claims = self._authorize(f"Bearer {token}")
            return _json(HTTPStatus.OK, {"active": True, **claims} if claims else {"active": False})
        return _json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = _READ_TIMEOUT_SECONDS

            def _any(self) -> None:
                started = time.monotonic()
                status, out_headers, data = self._answer()
                self._reply(status, out_headers, data)
                if gateway.on_request is not None:
                    gateway.on_request(self.command, self.path, status, time.monotonic() - started)

            def _answer(self) -> tuple[int, dict[str, str], bytes]:
                headers: dict[str, str] = {}
                for key, value in self.headers.items():
                    key = key.lower()
                    headers[key] = f"{headers[key]},{value}" if key in headers else value
                length = _content_length(headers.get("content-length"))
                if length is None:
                    # The body's end is unknown: answer, then close, as the connection cannot be reused.
                    self.close_connection = True
                    return _json(HTTPStatus.BAD_REQUEST, {"message": "Bad Request"})
                if length > MAX_BODY_BYTES:
                    self.close_connection = True
                    return _json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Entity Too Large"})
                return self._forward(headers, self.rfile.read(length) if length else b"")

            def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
                try:
                    return gateway.handle(self.command, self.path, headers, body, self.client_address[0])
                except Exception:  # noqa: BLE001 - the gateway answers 500 as API Gateway would
                    _log.exception("the local gateway failed")
                    return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"})

            def _reply(self, status: int, out_headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for key, value in out_headers.items():
                    if key not in ("content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                if self.close_connection:
                    self.send_header("connection", "close")
                self.end_headers()
                self.wfile.write(data)

            # BaseHTTPRequestHandler dispatches on these names.
            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any  # noqa: N815
            # No route has these either; without a name the handler would answer its own 501 page, not a 404.
            do_TRACE = do_QUERY = _any  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

        return Handler


def _content_length(value: str | None) -> int | None:
    """The announced body length: 0 when absent, None when it is not a plain non-negative integer."""
    if value is None or value == "":
        return 0
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return int(status), {"content-type": "application/json", **(headers or {})}, json.dumps(body).encode()


def _local_error(field: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": "validation_error",
            "message": "the request is invalid",
            "details": [{"field": field, "message": message}],
        }
    }
