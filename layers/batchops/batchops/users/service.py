"""Creating, reading and looking up users (the routes of the users family)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchops.domain.ports import Clock, IdGenerator
from batchops.domain.times import iso
from batchops.users.models import User, UserNotFoundError
from batchops.users.ports import PasswordHasher, UserRepository

# Ids one lookup may name; the repository reads them in groups (DynamoDB's BatchGetItem takes 100 keys).
MAX_LOOKUP_IDS = 1000


def new_user(
    user_id: str, owner: str, email: str, name: str, password_hash: str, now: datetime, change_id: str | None = None
) -> User:
    return User(user_id, owner, email, name, password_hash, now, now, last_change_id=change_id)


def as_json(u: User) -> dict[str, Any]:
    """A user as the API shows it: never its password, not even hashed."""
    return {
        "userId": u.user_id,
        "email": u.email,
        "name": u.name,
        "createdAt": iso(u.created_at),
        "updatedAt": iso(u.updated_at),
        "lastLoginAt": iso(u.last_login_at),
        "isDeleted": u.is_deleted,
        "deletedAt": iso(u.deleted_at),
    }


@dataclass(frozen=True)
class Lookup:
    users: list[User]
    # The requested ids that are missing, another owner's, or deleted (unless deleted ones were asked for).
    missing: list[str]


@dataclass(frozen=True)
class UserService:
    repo: UserRepository
    hasher: PasswordHasher
    clock: Clock
    ids: IdGenerator

    def create(self, owner: str, email: str, name: str, password: str) -> User:
        user = new_user(self.ids.new_id(), owner, email, name, self.hasher.hash(password), self.clock.now())
        self.repo.create(user)
        return user

    def get(self, owner: str, user_id: str) -> User:
        user = self.repo.get(user_id)
        if user is None or user.owner != owner:
            raise UserNotFoundError(user_id)
        return user

    def lookup(self, owner: str, user_ids: Sequence[str], include_deleted: bool = False) -> Lookup:
        """The caller's users of these ids, in the order asked (each id once)."""
        wanted = list(dict.fromkeys(user_ids))
        found = {
            u.user_id: u
            for u in self.repo.get_many(wanted)
            if u.owner == owner and (include_deleted or not u.is_deleted)
        }
        return Lookup([found[i] for i in wanted if i in found], [i for i in wanted if i not in found])
