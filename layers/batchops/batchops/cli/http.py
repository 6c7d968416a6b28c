"""The HTTP API as the CLI sees it: JSON in and out, the API's error body turned into one exception."""

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# A request the API answers (HTTP API gives up after 30 s); reading a large report may take longer.
REQUEST_TIMEOUT_SECONDS = 35
DOWNLOAD_TIMEOUT_SECONDS = 300


class CliError(Exception):
    """What the person must read on stderr; the command exits 3."""

    # Worth asking again a moment later (the network, throttling, a 5xx), while watching a batch.
    transient = False


class UnreachableError(CliError):
    transient = True


@dataclass
class ApiError(CliError):
    status: int
    code: str
    message: str
    details: list[dict[str, str]] = field(default_factory=list)

    @property
    def transient(self) -> bool:  # type: ignore[override]
        return self.status == 429 or self.status >= 500

    def __str__(self) -> str:
        fields = "; ".join(f"{d.get('field')}: {d.get('message')}" for d in self.details)
        return f"HTTP {self.status} {self.code}: {self.message}" + (f" ({fields})" if fields else "")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect arrives as the reply itself (an HTTPError with its Location), not followed.

    A report is a 303 to a presigned link: following it would send our bearer token to the bucket, which
    refuses a request with two kinds of credentials. The client fetches the link itself, without it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(NoRedirect)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: Any


class Api:
    def __init__(self, base_url: str, token: str | None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise CliError(f"--api must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """One API request; any status but 2xx and 303 raises ApiError with the API's own code and fields."""
        if self.token is None and not path.startswith("/_local/"):
            raise CliError("no token: give --token or set BATCHOPS_TOKEN (locally: batchops token --local)")
        url = self.base_url + path
        present = {k: v for k, v in (query or {}).items() if v is not None}
        if present:
            url += "?" + urllib.parse.urlencode(present)
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self.token is not None:
            all_headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310 - checked scheme
        status, reply_headers, raw = _send(request, REQUEST_TIMEOUT_SECONDS)
        parsed = _json(raw)
        if status >= 400:
            raise _api_error(status, parsed)
        return Reply(status, reply_headers, parsed)

    def pages(self, path: str, key: str, query: Mapping[str, Any], limit: int | None = None) -> Iterator[Any]:
        """Every entry of a paged listing (nextToken), or the first `limit` of them."""
        token: str | None = None
        seen = 0
        while True:
            page = self.call("GET", path, query={**query, "nextToken": token}).body
            for entry in page[key]:
                yield entry
                seen += 1
                if limit is not None and seen >= limit:
                    return
            token = page.get("nextToken")
            if not token:
                return


def put_file(url: str, headers: Mapping[str, str], data: bytes) -> None:
    """PUT an upload's bytes to its presigned link (no bearer token: the link is the credential)."""
    request = urllib.request.Request(url, data=data, method="PUT", headers=dict(headers))  # noqa: S310 - API's link
    status, _, raw = _send(request, DOWNLOAD_TIMEOUT_SECONDS)
    if status >= 300:
        raise CliError(f"the upload was refused: HTTP {status} {raw[:200].decode(errors='replace')}")


def download(url: str) -> Iterator[bytes]:
    """A presigned link's body, in pieces."""
    request = urllib.request.Request(url, method="GET")  # noqa: S310 - the API's own link
    try:
        with _opener.open(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as reply:
            while piece := reply.read(1 << 16):
                yield piece
    except urllib.error.HTTPError as e:
        raise CliError(f"the report link answered HTTP {e.code}") from e
    except (urllib.error.URLError, OSError) as e:
        raise CliError(f"cannot read the report link: {getattr(e, 'reason', e)}") from e


def _send(request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str], bytes]:
    try:
        with _opener.open(request, timeout=timeout) as reply:
            return reply.status, dict(reply.headers.items()), reply.read()
    except urllib.error.HTTPError as e:
        # Also a 303: the redirect handler declines, so it arrives here with its Location.
        return e.code, dict(e.headers.items()), e.read()
    except (urllib.error.URLError, OSError) as e:
        raise UnreachableError(f"cannot reach {request.full_url.split('?')[0]}: {getattr(e, 'reason', e)}") from e


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _api_error(status: int, body: Any) -> ApiError:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ApiError(status, str(error.get("code")), str(error.get("message")), list(error.get("details") or []))
    # API Gateway's own answers (401 from the authorizer, 404 of an unknown route) carry only a message.
    message = body.get("message") if isinstance(body, dict) else body
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, "http_error")
    return ApiError(status, code, str(message or "no details"))
