"""TokenIntrospector over an OAuth 2.0 token introspection endpoint (RFC 7662)."""

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any


class HttpTokenIntrospector:
    def __init__(self, url: str, timeout_seconds: float = 3) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"introspection endpoint must be an http(s) URL, not {url!r}")
        self._url = url
        self._timeout = timeout_seconds

    def claims(self, token: str) -> Mapping[str, Any] | None:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self._url,
            data=urllib.parse.urlencode({"token": token}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as reply:  # noqa: S310 - checked in __init__
                verdict = json.loads(reply.read())
        except (urllib.error.URLError, OSError, ValueError):
            # An issuer that cannot be asked vouches for nothing: the caller gets a 401.
            return None
        if not isinstance(verdict, dict) or verdict.get("active") is not True:
            return None
        return verdict
