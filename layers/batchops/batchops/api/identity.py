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
    return sub if isinstance(sub, str) and _is_subject(sub) else None


# OpenID Connect: a subject is at most 255 ASCII characters. It becomes the owner of records and part of
# their keys, so anything else (blank, padded, control characters, kilobytes) identifies nobody.
MAX_SUBJECT_LENGTH = 255


def _is_subject(sub: str) -> bool:
    return 0 < len(sub) <= MAX_SUBJECT_LENGTH and sub.strip() == sub and sub.isascii() and sub.isprintable()
