"""A local JWT issuer standing in for Cognito: RS256 tokens the local gateway verifies like API Gateway does."""

import time
from collections.abc import Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

_KEY_ID = "batchops-local"


class TokenRejectedError(Exception):
    pass


class LocalIssuer:
    def __init__(self, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        # A fresh key per run: tokens from an earlier run are rejected, as they would be by a new pool.
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def issue(self, sub: str, groups: Sequence[str] = (), ttl_seconds: int = 3600) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "groups": list(groups),
            "token_use": "id",
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": _KEY_ID})

    def verify(self, token: str, issuer: str, audiences: Sequence[str]) -> dict[str, Any]:
        """Check signature, issuer, audience and lifetime against the authorizer's configuration."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                issuer=issuer,
                audience=list(audiences),
                options={"require": ["exp", "iss", "sub"]},
            )
        except jwt.PyJWTError as e:
            raise TokenRejectedError(str(e)) from e
        return claims

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": _KEY_ID, "use": "sig", "alg": "RS256"}]}
