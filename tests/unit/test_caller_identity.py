"""The caller is the verified token's subject: from the authorizer, or from introspection under SAM local."""

from collections.abc import Mapping
from typing import Any

from batchops.api.identity import caller_subject


class FakeIntrospector:
    def __init__(self, valid: Mapping[str, Mapping[str, Any]]) -> None:
        self.valid = valid
        self.asked: list[str] = []

    def claims(self, token: str) -> Mapping[str, Any] | None:
        self.asked.append(token)
        return self.valid.get(token)


def test_the_authorizers_claims_decide_and_the_introspector_is_never_asked() -> None:
    introspector = FakeIntrospector({"t": {"sub": "mallory"}})
    assert caller_subject({"sub": "alice"}, "Bearer t", introspector) == "alice"
    assert introspector.asked == []


def test_without_an_introspector_a_request_with_no_claims_has_no_caller() -> None:
    assert caller_subject(None, "Bearer anything", None) is None
    assert caller_subject({}, "Bearer anything", None) is None


def test_without_claims_the_bearer_token_is_verified_by_the_introspector() -> None:
    introspector = FakeIntrospector({"good": {"sub": "bob", "active": True}})
    assert caller_subject(None, "Bearer good", introspector) == "bob"
    assert caller_subject(None, "bearer  good ", introspector) == "bob"
    assert caller_subject(None, "Bearer bad", introspector) is None


def test_headers_that_carry_no_bearer_token_are_not_sent_to_the_introspector() -> None:
    introspector = FakeIntrospector({})
    for header in (None, "", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer"):
        assert caller_subject(None, header, introspector) is None
    assert introspector.asked == []
