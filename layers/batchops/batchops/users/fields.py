"""User fields and their rules, shared by POST /users and the batch operations."""

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from batchops.secrets import SecretField

UserId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Never stored or shown: only its salted scrypt hash is kept (batchops/users/passwords.py).
Password = Annotated[str, StringConstraints(min_length=8, max_length=128), SecretField()]

# One @, a dot in the domain, no spaces or control characters: what every mail system accepts. Deliverability
# is the sender's business; uniqueness is checked on the lower-case form.
_EMAIL = re.compile(
    r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not a valid email address (name@domain.tld)")
    return value.lower()


Email = Annotated[str, Field(max_length=254), StringConstraints(strip_whitespace=True), AfterValidator(_email)]
