"""The user as the domain sees it, the changes batch items make to users, and their errors."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchops.domain.errors import BatchOpsError, ConflictError, NotFoundError


@dataclass(frozen=True)
class User:
    user_id: str
    owner: str
    # Lower case: unique per owner.
    email: str
    name: str
    # scrypt$...: salted and memory-hard (batchops/users/passwords.py); never shown.
    password_hash: str
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None = None
    is_deleted: bool = False
    deleted_at: datetime | None = None
    # The batch item (batchId#index) that created or last changed it: a re-run of that item finds it applied.
    last_change_id: str | None = None


@dataclass(frozen=True)
class UserChange:
    """One conditional update of a user: camelCase attributes; a new email moves its uniqueness record."""

    user_id: str
    owner: str
    attributes: dict[str, Any]
    # batchId#index: the same batch item never applies its change twice.
    change_id: str
    at: datetime
    # Fail with UserDeletedError instead of changing a deleted user.
    require_active: bool = True

    @property
    def new_email(self) -> str | None:
        email = self.attributes.get("email")
        return str(email) if email is not None else None


class UserNotFoundError(NotFoundError):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id} not found")


class UserDeletedError(BatchOpsError):
    code = "user_deleted"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id} is deleted")


class EmailInUseError(ConflictError):
    code = "email_in_use"

    def __init__(self) -> None:
        # The address is the caller's own data, but an error message travels further (logs): not repeated.
        super().__init__("this email address is already used by another user")


class UserExistsError(BatchOpsError):
    """A user with this id exists already (a batch item's create run again after a crash)."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id} exists already")


class UserChangeReplayedError(BatchOpsError):
    """The change was applied already, by the same batch item."""

    def __init__(self, current: User) -> None:
        self.current = current
        super().__init__(f"user {current.user_id} already has change {current.last_change_id}")
