"""The users operations, as plug-ins of the batch engine. Each is applied once per batch item (see
batchops/operations/exactly_once.py): a create's user id derives from its item, every change carries its
item's change id."""

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import AwareDatetime

from batchops.domain.models import ItemOutcome, ItemRef
from batchops.domain.ports import ItemTask
from batchops.domain.times import iso
from batchops.operations.camel import CamelModel, NoParams
from batchops.operations.exactly_once import REPLAYED, change_id, created_id
from batchops.operations.partial_updates import PartialUpdate
from batchops.operations.registry import Operation
from batchops.users.fields import Email, Name, Password, UserId
from batchops.users.models import (
    EmailInUseError,
    User,
    UserChange,
    UserChangeReplayedError,
    UserDeletedError,
    UserExistsError,
    UserNotFoundError,
)
from batchops.users.ports import PasswordHasher, UserRepository
from batchops.users.service import new_user


@dataclass(frozen=True)
class UsersResources:
    users: UserRepository
    hasher: PasswordHasher


class NewUser(CamelModel):
    email: Email
    name: Name
    password: Password


class UserData(PartialUpdate):
    allowed = ("name", "email")

    name: Name | None = None
    email: Email | None = None


class UserUpdate(CamelModel):
    id: UserId
    data: UserData


class RecordLoginParams(CamelModel):
    # When the logins happened (ISO 8601 with a time zone); default: when each item runs.
    at: AwareDatetime | None = None


def _new_user_ref(user: NewUser) -> ItemRef:
    # The address is the item's id: the same address twice in one batch is refused like a duplicate id.
    return ItemRef(user.email, user.model_dump(mode="json", by_alias=True))


def _update_ref(update: UserUpdate) -> ItemRef:
    # The whole item is its input, as the client sent it (less what it left out).
    return ItemRef(update.id, {"id": update.id, "data": update.data.changes()})


def _user_ref(user_id: str) -> ItemRef:
    return ItemRef(user_id)


def _user_id(task: ItemTask) -> str:
    assert task.ref.item_id is not None, "users operations on ids have an id per item"
    return task.ref.item_id


def _not_found() -> ItemOutcome:
    # The same answer for a missing user and another owner's, so nothing leaks about the latter.
    return ItemOutcome.failed("not_found", "User not found")


def _email_in_use() -> ItemOutcome:
    return ItemOutcome.failed("email_in_use", "This email address is already used by another user")


def _deleted() -> ItemOutcome:
    return ItemOutcome.failed("user_deleted", "User is deleted; it cannot be changed")


_CREATED_IDS = uuid.UUID("0b6f4a5e-4f0e-4c53-9a39-1d7c2f8e6a41")


def create(task: ItemTask, params: NoParams, res: UsersResources) -> ItemOutcome:
    fields = NewUser.model_validate(task.ref.body)
    user = new_user(
        created_id(_CREATED_IDS, task),
        task.owner,
        fields.email,
        fields.name,
        res.hasher.hash(fields.password),
        task.now,
        change_id(task),
    )
    message = "User created"
    try:
        res.users.create(user)
    except EmailInUseError:
        return _email_in_use()
    except UserExistsError:
        current = res.users.get(user.user_id)
        if current is None or current.owner != task.owner or current.last_change_id != change_id(task):
            return ItemOutcome.failed("conflict", "A user with this item's id exists already")
        user, message = current, message + REPLAYED
    return ItemOutcome.succeeded(message, {"userId": user.user_id, "email": user.email})


def _changed(res: UsersResources, task: ItemTask, attributes: dict[str, Any], message: str) -> tuple[User, str]:
    """Apply the item's change; raises what the repository raises, except a replay, which is reported."""
    change = UserChange(_user_id(task), task.owner, attributes, change_id(task), task.now)
    try:
        return res.users.apply(change), message
    except UserChangeReplayedError as e:
        return e.current, message + REPLAYED


def update(task: ItemTask, params: NoParams, res: UsersResources) -> ItemOutcome:
    assert task.ref.body is not None, "an update item carries its data"
    data: dict[str, Any] = task.ref.body["data"]
    fields = sorted(data)
    try:
        user, message = _changed(res, task, data, f"User updated: {', '.join(fields)}")
    except UserNotFoundError:
        return _not_found()
    except UserDeletedError:
        return _deleted()
    except EmailInUseError:
        return _email_in_use()
    return ItemOutcome.succeeded(message, {"userId": user.user_id, "updated": fields})


def record_login(task: ItemTask, params: RecordLoginParams, res: UsersResources) -> ItemOutcome:
    at = params.at or task.now
    try:
        user, message = _changed(res, task, {"lastLoginAt": at}, "Last login recorded")
    except UserNotFoundError:
        return _not_found()
    except UserDeletedError:
        return _deleted()
    return ItemOutcome.succeeded(message, {"userId": user.user_id, "lastLoginAt": iso(user.last_login_at)})


def soft_delete(task: ItemTask, params: NoParams, res: UsersResources) -> ItemOutcome:
    try:
        user, message = _changed(res, task, {"isDeleted": True, "deletedAt": task.now}, "User deleted")
    except UserNotFoundError:
        return _not_found()
    except UserDeletedError:
        return ItemOutcome.succeeded("User was already deleted", {"userId": _user_id(task), "alreadyDeleted": True})
    return ItemOutcome.succeeded(message, {"userId": user.user_id, "deletedAt": iso(user.deleted_at)})


USERS_OPERATIONS: tuple[Operation[Any, UsersResources], ...] = (
    Operation(
        "users.create", "Create users: email, name and password per item", NoParams, NewUser, _new_user_ref, create
    ),
    Operation(
        "users.update",
        "Change users' name or email: {id, data: {name?, email?}} per item",
        NoParams,
        UserUpdate,
        _update_ref,
        update,
    ),
    Operation(
        "users.record-login",
        "Set users' last login time (params.at, default now)",
        RecordLoginParams,
        UserId,
        _user_ref,
        record_login,
    ),
    Operation(
        "users.soft-delete", "Mark users deleted (kept, hidden from lookups)", NoParams, UserId, _user_ref, soft_delete
    ),
)
