"""One contract for the users repository: the in-memory fake and the DynamoDB adapter (on moto, in process)
must both keep it."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from batchops.users.dynamo import DynamoUserRepository
from batchops.users.models import (
    EmailInUseError,
    UserChange,
    UserChangeReplayedError,
    UserDeletedError,
    UserExistsError,
    UserNotFoundError,
)
from batchops.users.ports import UserRepository
from batchops.users.service import new_user
from tests.unit.fake_users import InMemoryUsers
from tests.unit.moto_tables import create_table

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "dynamodb"])
def repo(request: pytest.FixtureRequest) -> Iterator[UserRepository]:
    if request.param == "fake":
        yield InMemoryUsers()
        return
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        create_table(db, "users", sort_key=False)
        yield DynamoUserRepository("users", db)


def _user(user_id: str, email: str, owner: str = "alice", **kw: Any) -> Any:
    return new_user(user_id, owner, email, f"User {user_id}", "scrypt$hash", NOW, **kw)


def _change(user_id: str, n: int, owner: str = "alice", require_active: bool = True, **attributes: Any) -> UserChange:
    return UserChange(user_id, owner, attributes, f"b#{n}", NOW + timedelta(minutes=n), require_active)


def test_a_created_user_reads_back_whole(repo: UserRepository) -> None:
    user = _user("u1", "ann@example.com", change_id="b#0")
    repo.create(user)
    assert repo.get("u1") == user
    assert repo.get("nobody") is None


def test_an_email_is_unique_per_owner_only(repo: UserRepository) -> None:
    repo.create(_user("u1", "ann@example.com"))
    with pytest.raises(EmailInUseError):
        repo.create(_user("u2", "ann@example.com"))
    assert repo.get("u2") is None
    repo.create(_user("u3", "ann@example.com", owner="bob"))
    assert repo.get("u3") is not None


def test_a_taken_id_is_refused_before_the_email(repo: UserRepository) -> None:
    repo.create(_user("u1", "ann@example.com"))
    # A create run again after a crash: both its records exist, and it learns its user is there.
    with pytest.raises(UserExistsError):
        repo.create(_user("u1", "ann@example.com"))


def test_many_users_read_in_groups_skip_missing_ids(repo: UserRepository) -> None:
    for n in range(130):
        repo.create(_user(f"u{n}", f"user{n}@example.com"))
    wanted = [f"u{n}" for n in range(0, 130, 1)] + ["missing-1", "u5"]
    found = repo.get_many(wanted)
    assert sorted(u.user_id for u in found) == sorted(f"u{n}" for n in range(130))


def test_a_change_sets_its_fields_and_marks_the_item(repo: UserRepository) -> None:
    repo.create(_user("u1", "ann@example.com"))
    changed = repo.apply(_change("u1", 1, name="Ann B"))
    assert (changed.name, changed.last_change_id, changed.updated_at) == ("Ann B", "b#1", NOW + timedelta(minutes=1))
    assert repo.get("u1") == changed
    with pytest.raises(UserChangeReplayedError) as replay:
        repo.apply(_change("u1", 1, name="Ann B"))
    assert replay.value.current == changed


def test_a_new_email_moves_the_reservation(repo: UserRepository) -> None:
    repo.create(_user("u1", "ann@example.com"))
    repo.create(_user("u2", "bea@example.com"))
    with pytest.raises(EmailInUseError):
        repo.apply(_change("u1", 1, email="bea@example.com"))
    assert repo.get("u1").email == "ann@example.com"  # type: ignore[union-attr]
    moved = repo.apply(_change("u1", 2, email="ann.new@example.com"))
    assert moved.email == "ann.new@example.com"
    # The old address is free again, the new one taken.
    repo.create(_user("u3", "ann@example.com"))
    with pytest.raises(EmailInUseError):
        repo.create(_user("u4", "ann.new@example.com"))


def test_another_owners_or_a_missing_user_is_not_found(repo: UserRepository) -> None:
    repo.create(_user("u1", "ann@example.com"))
    with pytest.raises(UserNotFoundError):
        repo.apply(_change("u1", 1, owner="mallory", name="x"))
    with pytest.raises(UserNotFoundError):
        repo.apply(_change("nobody", 1, name="x"))
    assert repo.get("u1").name == "User u1"  # type: ignore[union-attr]


def test_a_deleted_user_refuses_changes_that_need_it_active(repo: UserRepository) -> None:
    repo.create(_user("u1", "ann@example.com"))
    deleted = repo.apply(_change("u1", 1, isDeleted=True, deletedAt=NOW))
    assert deleted.is_deleted and deleted.deleted_at == NOW
    with pytest.raises(UserDeletedError):
        repo.apply(_change("u1", 2, name="x"))
    with pytest.raises(UserDeletedError):
        repo.apply(_change("u1", 3, isDeleted=True, deletedAt=NOW))
    # A soft-deleted user keeps its address.
    with pytest.raises(EmailInUseError):
        repo.create(_user("u2", "ann@example.com"))
