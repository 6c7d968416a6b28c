"""The dashboard's files, served by the API function: each with its type, its policy and its cache headers; only
the known files; and nothing in them that reaches another host (no CDN: the page works offline)."""

import copy
import re
from collections.abc import Iterator
from importlib import resources
from types import ModuleType
from typing import Any

import pytest

from batchops.api.routes.dashboard import CONTENT_TYPES, INDEX
from tests.conftest import load_event
from tests.unit.function_environments import loaded
from tests.unit.test_api_errors import _Context

ASSETS = sorted(set(CONTENT_TYPES) - {INDEX})
TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"}
# An XML namespace name is an identifier that nothing fetches (the favicon's xmlns="http://www.w3.org/2000/svg").
_NAMESPACE = re.compile(r'\bxmlns(?::\w+)?="[^"]*"')
# A URL with a scheme, or a protocol-relative one ("//cdn.example/x.js"): either would load from another host.
# Comments (// in JS, /* */ in CSS) are no URL: a "//" counts only right after a quote, "(", "=" or whitespace
# that starts a value, followed by a host name.
_EXTERNAL = re.compile(r"""https?://|(?:["'(=]|url\()\s*//[\w.-]+""", re.IGNORECASE)


@pytest.fixture(scope="module")
def api() -> Iterator[ModuleType]:
    with loaded("ApiFunction") as handler:
        yield handler


def _get(api: ModuleType, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = copy.deepcopy(load_event("api_openapi.json"))
    route = "GET /dashboard" if path == "/dashboard" else "GET /dashboard/{asset}"
    event.update(routeKey=route, rawPath=path)
    event["requestContext"].update(routeKey=route)
    event["requestContext"]["http"]["path"] = path
    event["headers"] = {"host": "abc123.execute-api.us-east-1.amazonaws.com", **(headers or {})}
    if path != "/dashboard":
        event["pathParameters"] = {"asset": path.removeprefix("/dashboard/")}
    reply: dict[str, Any] = api.lambda_handler(event, _Context())
    return reply


def _text(name: str) -> str:
    return (resources.files("batchops.api") / "dashboard" / name).read_text(encoding="utf-8")


def test_the_page_is_served_at_dashboard_without_a_token(api: ModuleType) -> None:
    reply = _get(api, "/dashboard")  # the sample event has no authorizer claims: none is needed
    assert reply["statusCode"] == 200
    assert reply["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert reply["body"] == _text(INDEX)
    assert "<title>batchops dashboard</title>" in reply["body"]


@pytest.mark.parametrize("name", ASSETS)
def test_each_asset_is_served_with_its_type(api: ModuleType, name: str) -> None:
    reply = _get(api, f"/dashboard/{name}")
    assert reply["statusCode"] == 200
    assert reply["headers"]["Content-Type"] == TYPES[name.rsplit(".", 1)[1]]
    assert reply["body"] == _text(name)
    assert not reply.get("isBase64Encoded")


@pytest.mark.parametrize("name", ["nope.js", "index.html", "..%2Fapp.py", "__init__.py", "dashboard.JS"])
def test_an_unknown_file_is_a_404_in_the_apis_error_shape(api: ModuleType, name: str) -> None:
    reply = _get(api, f"/dashboard/{name}")
    assert reply["statusCode"] == 404
    assert '"code": "not_found"' in reply["body"] or '"code":"not_found"' in reply["body"]


@pytest.mark.parametrize("name", ["/dashboard", *[f"/dashboard/{a}" for a in ASSETS]])
def test_every_file_carries_a_self_only_policy_and_cache_headers(api: ModuleType, name: str) -> None:
    headers = _get(api, name)["headers"]
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert policy["img-src"] == policy["font-src"] == "'self'"
    assert policy["object-src"] == policy["frame-ancestors"] == "'none'"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"])


def test_a_file_the_browser_has_is_a_304(api: ModuleType) -> None:
    etag = _get(api, "/dashboard/dashboard.js")["headers"]["ETag"]
    again = _get(api, "/dashboard/dashboard.js", {"if-none-match": etag})
    assert again["statusCode"] == 304 and not again.get("body")
    assert _get(api, "/dashboard/dashboard.js", {"if-none-match": '"other"'})["statusCode"] == 200


def test_the_assets_are_every_file_of_the_folder_and_the_page_links_them_all() -> None:
    folder = resources.files("batchops.api") / "dashboard"
    assert {f.name for f in folder.iterdir() if f.is_file()} == set(CONTENT_TYPES)
    page = _text(INDEX)
    linked = set(re.findall(r'(?:src|href)="dashboard/([^"]+)"', page))
    imported = {m for name in ASSETS for m in re.findall(r'from "\./([^"]+)"', _text(name))}
    assert linked | imported == set(ASSETS)


@pytest.mark.parametrize("name", sorted(CONTENT_TYPES))
def test_no_file_reaches_another_host(name: str) -> None:
    text = _NAMESPACE.sub("", _text(name))
    assert _EXTERNAL.findall(text) == [], f"{name} names a URL of another host"
    # The page's own links and imports are relative to it, never absolute.
    assert not re.search(r'(?:src|href)="/', text)


def test_the_scanner_would_see_a_cdn() -> None:
    for sample in [
        '<script src="https://cdn.example/x.js">',
        "<link href='//cdn.example/x.css'>",
        "@import url(//fonts.example/a.css);",
        'fetch("http://127.0.0.1:9/x")',
    ]:
        assert _EXTERNAL.search(sample), sample
    assert not _EXTERNAL.search("// a comment in JS\n/* and // in CSS */")


def test_script_never_inserts_data_as_html() -> None:
    for name in ASSETS:
        text = _text(name)
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", text), name
