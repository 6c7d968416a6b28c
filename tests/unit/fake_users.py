"""The users family's in-memory ports: what the contract suite holds the DynamoDB adapter to."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from batchops.users.models import (
    EmailInUseError,
    User,
    UserChange,
    UserChangeReplayedError,
    UserDeletedError,
    UserExistsError,
    UserNotFoundError,
)

# camelCase attribute -> User field, for the changes batch items make.
_FIELDS = {
    "name": "name",
    "email": "email",
    "lastLoginAt": "last_login_at",
    "isDeleted": "is_deleted",
    "deletedAt": "deleted_at",
}


class InMemoryUsers:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        # (owner, email) -> user id: the reservations.
        self.emails: dict[tuple[str, str], str] = {}

    def create(self, user: User) -> None:
        if user.user_id in self.users:
            raise UserExistsError(user.user_id)
        if (user.owner, user.email) in self.emails:
            raise EmailInUseError()
        self.users[user.user_id] = user
        self.emails[(user.owner, user.email)] = user.user_id

    def get(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def get_many(self, user_ids: Sequence[str]) -> list[User]:
        return [self.users[i] for i in dict.fromkeys(user_ids) if i in self.users]

    def apply(self, change: UserChange) -> User:
        current = self.users.get(change.user_id)
        if current is None or current.owner != change.owner:
            raise UserNotFoundError(change.user_id)
        if current.last_change_id == change.change_id:
            raise UserChangeReplayedError(current)
        if change.require_active and current.is_deleted:
            raise UserDeletedError(change.user_id)
        new_email = change.new_email
        if new_email is not None and new_email != current.email:
            if (current.owner, new_email) in self.emails:
                raise EmailInUseError()
            del self.emails[(current.owner, current.email)]
            self.emails[(current.owner, new_email)] = current.user_id
        values: dict[str, Any] = {_FIELDS[k]: v for k, v in change.attributes.items()}
        at: datetime = change.at
        updated = replace(current, **values, updated_at=at, last_change_id=change.change_id)
        self.users[current.user_id] = updated
        return updated


class FastHasher:
    """A reversible stand-in for scrypt, so tests can tell which password a hash came from."""

    def hash(self, password: str) -> str:
        return f"fake${len(password)}"
