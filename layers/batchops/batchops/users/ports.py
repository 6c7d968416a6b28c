"""What the users family needs from the outside world."""

from collections.abc import Sequence
from typing import Protocol

from batchops.users.models import User, UserChange


class UserRepository(Protocol):
    def create(self, user: User) -> None:
        """Store a new user and reserve its email for its owner, at once.

        Raises EmailInUseError (the owner has a user with this email), UserExistsError (its id is taken)."""

    def get(self, user_id: str) -> User | None: ...

    def get_many(self, user_ids: Sequence[str]) -> list[User]:
        """The users of these ids that exist, in any order."""

    def apply(self, change: UserChange) -> User:
        """Apply a change if the caller owns the user; the user after it. A new email takes the owner's
        uniqueness record of that address and frees the old one, in the same transaction.

        Raises UserNotFoundError (missing or another owner's), UserDeletedError (when the change requires an
        active user), EmailInUseError, UserChangeReplayedError (the same batch item applied it already)."""


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
