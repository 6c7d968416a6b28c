"""GET /openapi.json describes every route, and the API's replies match what it says; /docs shows it."""

import re
import urllib.request
import uuid
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from batchops.cli.http import Reply
from local.stack import OfflineStack
from tests.integration.client import Api
from tests.unit.test_template import PAGES, TEMPLATE

PRICE = "content.update-price"


@pytest.fixture(scope="module")
def spec(anonymous_module: Api) -> dict[str, Any]:
    reply = anonymous_module.request("GET", "/openapi.json")
    assert reply.status == 200, reply  # no token needed
    document: dict[str, Any] = reply.body
    return document


@pytest.fixture(scope="module")
def anonymous_module(stack: OfflineStack) -> Api:
    return Api(stack.api_url, None)


def _check(spec: dict[str, Any], method: str, path: str, reply: Reply) -> None:
    """The reply's status is documented for the route, and its body matches the documented schema."""
    operation = spec["paths"][path][method.lower()]
    documented = operation["responses"].get(str(reply.status))
    assert documented is not None, f"{method} {path} answered {reply.status}, which it does not document"
    content = documented.get("content", {}).get("application/json")
    if content is not None:
        schema = {**content["schema"], "components": spec["components"]}
        errors = sorted(Draft202012Validator(schema).iter_errors(reply.body), key=str)
        assert not errors, f"{method} {path} {reply.status}: {[e.message for e in errors]}"


def test_the_description_covers_every_route_of_the_template_but_the_pages(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    events = TEMPLATE["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    # Path parameters too are named as in the template and the README ({batchId}, not {batch_id}).
    template_routes = {(e["Properties"]["Method"].lower(), e["Properties"]["Path"]) for e in events}
    described = {(method, path) for path, operations in spec["paths"].items() for method in operations}
    # The pages (the description itself, the dashboard's page and files) are not API operations.
    assert described == template_routes - {(method.lower(), path) for method, path in PAGES}
    assert spec["components"]["securitySchemes"]["jwt"]["scheme"] == "bearer"
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # errors are ErrorBody, as 400s


def test_replies_match_the_description(spec: dict[str, Any], user: Api, other_user: Api) -> None:
    content = user.request("POST", "/content", {"title": "t", "contentType": "a", "price": 1})
    _check(spec, "POST", "/content", content)
    content_id = content.body["contentId"]
    _check(spec, "GET", "/content/{contentId}", user.request("GET", f"/content/{content_id}"))
    _check(spec, "GET", "/content/{contentId}", other_user.request("GET", f"/content/{content_id}"))
    _check(spec, "POST", "/content", user.request("POST", "/content", {"title": ""}))
    new_user = {"email": f"{uuid.uuid4().hex}@openapi.example", "name": "O", "password": "openapi-pass"}
    created = user.request("POST", "/users", new_user)
    _check(spec, "POST", "/users", created)
    _check(spec, "POST", "/users", user.request("POST", "/users", new_user))
    _check(spec, "POST", "/users", user.request("POST", "/users", {"email": "x"}))
    user_id = created.body["userId"]
    _check(spec, "GET", "/users/{userId}", user.request("GET", f"/users/{user_id}"))
    _check(spec, "GET", "/users/{userId}", other_user.request("GET", f"/users/{user_id}"))
    _check(spec, "GET", "/users", user.request("GET", f"/users?ids={user_id},nobody"))
    _check(spec, "GET", "/users", user.request("GET", "/users?ids=a/b"))
    _check(spec, "POST", "/users/lookup", user.request("POST", "/users/lookup", {"ids": [user_id]}))
    _check(spec, "POST", "/users/lookup", user.request("POST", "/users/lookup", {"ids": []}))

    submitted = user.request(
        "POST", "/batches", {"operation": PRICE, "items": [content_id, "x"], "params": {"newPrice": 2}}
    )
    _check(spec, "POST", "/batches", submitted)
    _check(spec, "POST", "/batches", user.request("POST", "/batches", {"operation": "nope", "items": ["a"]}))
    batch_id = submitted.body["batchId"]
    user.wait_final(batch_id)
    _check(spec, "GET", "/batches/{batchId}", user.request("GET", f"/batches/{batch_id}"))
    _check(spec, "GET", "/batches", user.request("GET", "/batches?limit=1"))
    _check(spec, "GET", "/batches/{batchId}/items", user.request("GET", f"/batches/{batch_id}/items"))
    link = user.request("GET", f"/batches/{batch_id}/report?scope=failed&redirect=false")
    assert link.status == 200 and link.headers["cache-control"] == "no-store", link
    _check(spec, "GET", "/batches/{batchId}/report", link)
    _check(spec, "POST", "/batches/{batchId}/cancel", user.request("POST", f"/batches/{batch_id}/cancel"))
    _check(spec, "POST", "/batches/{batchId}/retry", user.request("POST", f"/batches/{batch_id}/retry"))
    _check(spec, "GET", "/batches/{batchId}", other_user.request("GET", f"/batches/{batch_id}"))


def test_swagger_ui_is_served_offline_at_docs(stack: OfflineStack) -> None:
    with urllib.request.urlopen(f"{stack.api_url}/docs") as page:  # noqa: S310 - local stack
        html = page.read().decode()
    assert 'url: "/openapi.json"' in html
    for asset in re.findall(r'(?:src|href)="(/docs/[^"]+)"', html):
        with urllib.request.urlopen(f"{stack.api_url}{asset}") as reply:  # noqa: S310 - local stack
            assert reply.status == 200 and len(reply.read()) > 0, asset
