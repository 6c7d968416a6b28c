"""WebhookSender over HTTP, and the signing secret from Secrets Manager."""

import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from batchops.domain.errors import StoreUnavailableError, WebhookDeliveryError


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead the signed body elsewhere (even to plain http): it is a failed delivery.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpWebhookSender:
    def __init__(self, timeout_seconds: float = 10) -> None:
        self._timeout = timeout_seconds
        self._opener = urllib.request.build_opener(_NoRedirects)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        if not url.startswith(("http://", "https://")):
            raise WebhookDeliveryError("callback URL must be http(s)")
        request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310 - scheme checked
        try:
            with self._opener.open(request, timeout=self._timeout):
                return
        except urllib.error.HTTPError as e:
            raise WebhookDeliveryError(f"callback answered HTTP {e.code}") from e
        except (urllib.error.URLError, OSError) as e:
            raise WebhookDeliveryError(f"callback unreachable: {getattr(e, 'reason', e)}") from e


class SecretsManagerSecret:
    """A secret string, fetched once per container and kept: the key that signs webhooks."""

    def __init__(self, secret_id: str, client: Any = None) -> None:
        self._id = secret_id
        self._client = client
        self._value: bytes | None = None

    def __call__(self) -> bytes:
        if self._value is None:
            client = self._client or boto3.client("secretsmanager")
            try:
                self._value = str(client.get_secret_value(SecretId=self._id)["SecretString"]).encode()
            except (ClientError, BotoCoreError) as e:
                raise StoreUnavailableError(f"reading the webhook secret failed: {type(e).__name__}") from e
        return self._value
