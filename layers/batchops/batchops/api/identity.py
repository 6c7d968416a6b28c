"""Who is calling: the subject of the request's verified token, never anything from the body."""

from collections.abc import Mapping
from typing import Any, Protocol


class TokenIntrospector(Protocol):
    def claims(self, token: str) -> Mapping[str, Any] | None:
        """The claims of a token the issuer vouches for; None for any other token."""
        ...


def caller_subject(
    authorizer_claims: Mapping[str, Any] | None,
    authorization: str | None,
    introspector: TokenIntrospector | None,
) -> str | None:
    """The token's `sub`, as the HTTP API's JWT authorizer verified it.

    `sam local start-api` skips JWT authorizers and passes the request on with no claims. Only where an
    introspector is configured (never when deployed) is the bearer token then verified by asking the
    local stack's issuer, so the same API runs under SAM local without trusting unverified tokens.
    """
    claims = authorizer_claims
    if not claims and introspector is not None and authorization:
        scheme, _, token = authorization.partition(" ")
        claims = introspector.claims(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    sub = (claims or {}).get("sub")
    return str(sub) if sub else None
