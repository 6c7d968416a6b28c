"""Content routes and the JWT authorizer, over HTTP through the local gateway."""

from collections.abc import Callable

from batchops.adapters.token_introspection import HttpTokenIntrospector
from local.issuer import LocalIssuer
from local.stack import LOCAL_AUDIENCE, OfflineStack
from tests.integration.client import Api


def test_request_without_a_token_is_rejected_and_writes_nothing(
    anonymous: Api, count_records: Callable[[str], int]
) -> None:
    before = count_records("ContentTableName")
    reply = anonymous.request("POST", "/content", {"title": "x", "contentType": "article", "price": 1})
    assert reply.status == 401
    assert count_records("ContentTableName") == before


def test_tokens_that_are_forged_expired_or_for_another_audience_are_rejected(stack: OfflineStack) -> None:
    assert stack.issuer is not None
    forger = LocalIssuer(stack.issuer.issuer, LOCAL_AUDIENCE)
    wrong_audience = LocalIssuer(stack.issuer.issuer, "someone-else")
    wrong_audience._key = stack.issuer._key  # same signing key: only the audience differs
    tokens = {
        "forged": forger.issue("mallory"),
        "expired": stack.issuer.issue("alice", ttl_seconds=-60),
        "wrong audience": wrong_audience.issue("alice"),
        "not a jwt": "not-a-jwt",
    }
    for name, token in tokens.items():
        reply = Api(stack.api_url, token).request("GET", "/content/anything")
        assert reply.status == 401, name


def test_introspection_vouches_only_for_tokens_the_authorizer_would_accept(stack: OfflineStack) -> None:
    # What the API function asks under `sam local start-api`, which has no JWT authorizer.
    assert stack.issuer is not None
    introspector = HttpTokenIntrospector(f"{stack.api_url}/_local/introspect")
    claims = introspector.claims(stack.issuer.issue("alice"))
    assert claims is not None and claims["sub"] == "alice"
    forged = LocalIssuer(stack.issuer.issuer, LOCAL_AUDIENCE).issue("mallory")
    assert introspector.claims(forged) is None
    assert introspector.claims(stack.issuer.issue("alice", ttl_seconds=-60)) is None
    assert HttpTokenIntrospector("http://127.0.0.1:9/_local/introspect", timeout_seconds=1).claims("x") is None


def test_created_content_comes_back_to_its_owner_with_defaults(user: Api) -> None:
    created = user.create_content(title="  Padded title  ", contentType="video", price=0)
    assert created["title"] == "Padded title"
    assert created["owner"].startswith("user-")
    assert (created["tokenGating"], created["refundable"], created["refundWindowDays"]) == (False, False, 0)
    assert created["isRemoved"] is False
    reply = user.request("GET", f"/content/{created['contentId']}")
    assert reply.status == 200
    assert reply.body == created


def test_another_owners_content_reads_exactly_like_missing_content(user: Api, other_user: Api) -> None:
    content_id = user.create_content()["contentId"]
    theirs = other_user.request("GET", f"/content/{content_id}")
    missing = other_user.request("GET", "/content/does-not-exist")
    assert theirs.status == missing.status == 404
    assert theirs.body["error"]["code"] == missing.body["error"]["code"] == "not_found"


def test_invalid_content_is_rejected_naming_every_bad_field_and_writes_nothing(
    user: Api, count_records: Callable[[str], int]
) -> None:
    before = count_records("ContentTableName")
    reply = user.request(
        "POST",
        "/content",
        {"title": "", "price": -1, "refundWindowDays": 400, "tokenGating": "yes", "owner": "someone-else"},
    )
    assert reply.status == 400
    error = reply.body["error"]
    assert error["code"] == "validation_error"
    fields = {d["field"] for d in error["details"]}
    assert fields == {"title", "contentType", "price", "refundWindowDays", "tokenGating", "owner"}
    assert count_records("ContentTableName") == before


def test_price_must_be_an_integer_not_a_string_or_a_fraction(user: Api) -> None:
    for price in ("100", 10.5):
        reply = user.request("POST", "/content", {"title": "x", "contentType": "article", "price": price})
        assert reply.status == 400
        assert [d["field"] for d in reply.body["error"]["details"]] == ["price"]


def test_malformed_json_is_a_400_naming_the_body(user: Api) -> None:
    reply = user.request("POST", "/content", raw=b'{"title": "x",')
    assert reply.status == 400
    assert reply.body["error"]["details"][0]["field"] == "body"


def test_unknown_route_is_a_404(user: Api) -> None:
    assert user.request("GET", "/nothing-here").status == 404
