"""ContractGateway over the downstream contract endpoint's HTTP API."""

import json
import urllib.error
import urllib.request
from typing import Any

from batchops.domain.errors import ContractSyncError


class HttpContractGateway:
    def __init__(self, base_url: str, timeout_seconds: float) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"contract endpoint must be an http(s) URL, not {base_url!r}")
        self._base = base_url.rstrip("/")
        self._timeout = timeout_seconds

    def update_price(self, content_id: str, price: int) -> str | None:
        return self._post(f"/content/{content_id}/price", {"price": price})

    def remove(self, content_id: str, reason: str) -> str | None:
        return self._post(f"/content/{content_id}/remove", {"reason": reason})

    def _post(self, path: str, body: dict[str, Any]) -> str | None:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self._base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as reply:  # noqa: S310 - the scheme is checked in __init__
                payload = reply.read()
        except urllib.error.HTTPError as e:
            raise ContractSyncError(f"contract endpoint answered HTTP {e.code}") from e
        except TimeoutError as e:
            raise ContractSyncError(f"contract endpoint timed out after {self._timeout:g}s") from e
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, TimeoutError):
                raise ContractSyncError(f"contract endpoint timed out after {self._timeout:g}s") from e
            raise ContractSyncError(f"contract endpoint unreachable: {reason}") from e
        try:
            tx_id = json.loads(payload).get("txId")
        except (ValueError, AttributeError) as e:
            raise ContractSyncError("contract endpoint answered with something other than a JSON object") from e
        return str(tx_id) if tx_id is not None else None


class NoContractGateway:
    """No endpoint configured: changes stay off-chain, and that is not a warning."""

    def update_price(self, content_id: str, price: int) -> str | None:
        return None

    def remove(self, content_id: str, reason: str) -> str | None:
        return None


def contract_gateway(base_url: str | None, timeout_seconds: float) -> HttpContractGateway | NoContractGateway:
    return HttpContractGateway(base_url, timeout_seconds) if base_url else NoContractGateway()
