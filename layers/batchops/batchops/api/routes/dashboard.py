"""The dashboard: a static page (HTML, JS, CSS) served by the API function itself, same-origin with the API.

The files ship inside the package (the Lambda layer copies the package's directory whole) and are read with
importlib.resources. No route here needs a token: the page asks for one and sends it to the API routes itself.
Not in the OpenAPI description: these are pages, not API operations.
"""

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from batchops.api.errors import error_response
from batchops.api.routing import new_router

router = new_router()
Asset = Annotated[str, Path(alias="asset")]

INDEX = "index.html"
# Only these files are served, each with its type: a path is never looked up in the package by its name alone.
CONTENT_TYPES = {
    INDEX: "text/html; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
    # ES modules: the entry imports the others by relative name.
    **dict.fromkeys(
        ("dashboard.js", "api.js", "dom.js", "notice.js", "list.js", "batch.js"), "text/javascript; charset=utf-8"
    ),
}
# Every asset comes from this origin, and nothing else runs: no CDN, no inline script, no plug-in, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Revalidated on each load (a deploy changes the files under the same names); the ETag makes that a 304.
CACHE_CONTROL = "no-cache"


@dataclass(frozen=True)
class _File:
    body: str
    etag: str


@cache
def _file(name: str) -> _File:
    body = (resources.files("batchops.api") / "dashboard" / name).read_text(encoding="utf-8")
    return _File(body, '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"')


# Response[Any]: Powertools validates a reply against the route's annotation, and a 404's body is the error JSON.
def _serve(name: str) -> Response[Any]:
    file = _file(name)
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": file.etag,
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        # The page never puts a token in a URL, but no page of it needs to tell others where it was either.
        "Referrer-Policy": "no-referrer",
    }
    if file.etag in (router.current_event.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers, body="")
    return Response(status_code=200, content_type=CONTENT_TYPES[name], body=file.body, headers=headers)


@router.get("/dashboard", include_in_schema=False)
def dashboard_page() -> Response[Any]:
    return _serve(INDEX)


@router.get("/dashboard/<asset>", include_in_schema=False)
def dashboard_asset(asset: Asset) -> Response[Any]:
    # Not the page itself: its relative links (assets, API routes) resolve from /dashboard only.
    if asset == INDEX or asset not in CONTENT_TYPES:
        return error_response(404, "not_found", f"no dashboard file {asset[:100]!r}")
    return _serve(asset)
