"""WebhookSender over HTTP(S) to vetted addresses only, and the master key that owners' secrets derive from."""

import http.client
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from batchops.adapters.aws_errors import aws_errors
from batchops.domain.callbacks import address_problem, callback_problem
from batchops.domain.errors import CallbackRefusedError, WebhookDeliveryError

Resolve = Callable[[str, int], list[str]]


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address a host name resolves to (the system resolver)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was vetted, not to whatever the name resolves to a moment later."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._tls = ssl.create_default_context()

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, as for any HTTPS request.
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class HttpWebhookSender:
    def __init__(self, allow_loopback: bool, timeout_seconds: float = 10, resolve: Resolve = resolve_addresses) -> None:
        self._allow_loopback = allow_loopback
        self._timeout = timeout_seconds
        self._resolve = resolve

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        problem = callback_problem(url, self._allow_loopback)
        if problem:
            raise CallbackRefusedError(f"callback URL {problem}")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self._vetted_address(host, port)
        kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = kind(host, port, address, self._timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", target, body=body, headers=dict(headers))
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as e:
            raise WebhookDeliveryError(f"callback unreachable: {e}") from e
        finally:
            connection.close()
        # Redirects are not followed: they could lead the signed body anywhere.
        if not 200 <= status < 300:
            raise WebhookDeliveryError(f"callback answered HTTP {status}")

    def _vetted_address(self, host: str, port: int) -> str:
        """The address to connect to; refused if any address of the name is not public (DNS rebinding)."""
        try:
            addresses = self._resolve(host, port)
        except OSError as e:
            raise WebhookDeliveryError(f"callback host {host} does not resolve: {e}") from e
        if not addresses:
            raise WebhookDeliveryError(f"callback host {host} has no address")
        for address in addresses:
            problem = address_problem(address, self._allow_loopback)
            if problem:
                raise CallbackRefusedError(f"callback host {host} resolves to {address}, which {problem}")
        return addresses[0]


class SecretsManagerSecret:
    """A secret string, fetched once per container and kept: the master key owners' secrets derive from."""

    def __init__(self, secret_id: str, client: Callable[[], Any]) -> None:
        self._id = secret_id
        # Asked for on first use: most requests that build this never read the secret.
        self._client = client
        self._value: bytes | None = None

    def __call__(self) -> bytes:
        if self._value is None:
            with aws_errors("reading the webhook master key"):
                self._value = str(self._client().get_secret_value(SecretId=self._id)["SecretString"]).encode()
        return self._value
