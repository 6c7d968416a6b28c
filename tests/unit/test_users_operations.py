"""The users operations applied to one item at a time, over the in-memory repository."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from batchops.domain.manifests import public_line
from batchops.domain.models import ItemOutcome, ItemRef, ItemStatus
from batchops.domain.ports import ItemTask
from batchops.operations.camel import NoParams
from batchops.operations.exactly_once import REPLAYED
from batchops.secrets import secret_fields
from batchops.settings import Settings
from batchops.users import family as users_family
from batchops.users import passwords
from batchops.users.operations import (
    NewUser,
    RecordLoginParams,
    UsersResources,
    UserUpdate,
    create,
    record_login,
    soft_delete,
    update,
)
from batchops.users.passwords import ScryptHasher
from batchops.users.service import as_json
from tests.unit.fake_users import FastHasher, InMemoryUsers

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _out(outcome: ItemOutcome) -> dict[str, Any]:
    assert outcome.output is not None, outcome
    return outcome.output


def _code(outcome: ItemOutcome) -> str:
    assert outcome.error is not None, outcome
    return outcome.error.code


@pytest.fixture
def res() -> UsersResources:
    return UsersResources(InMemoryUsers(), FastHasher())


def _task(ref: ItemRef, index: int = 0, batch: str = "b1", owner: str = "alice") -> ItemTask:
    return ItemTask(batch, owner, index, ref, {}, NOW)


def _new(email: str, index: int = 0, batch: str = "b1") -> ItemTask:
    body = NewUser.model_validate({"email": email, "name": "Ann", "password": "s3cret-pass"})
    return _task(ItemRef(body.email, body.model_dump(by_alias=True)), index, batch)


def test_a_create_run_again_after_a_crash_returns_the_same_user_and_creates_none(res: UsersResources) -> None:
    first = create(_new("Ann@Example.com"), NoParams(), res)
    again = create(_new("Ann@Example.com"), NoParams(), res)
    assert first.status is again.status is ItemStatus.SUCCEEDED
    assert first.output == again.output == {"userId": _out(first)["userId"], "email": "ann@example.com"}
    assert again.message == "User created" + REPLAYED
    assert len(res.users.users) == 1  # type: ignore[attr-defined]


def test_an_email_in_use_fails_the_item(res: UsersResources) -> None:
    create(_new("ann@example.com", batch="b0"), NoParams(), res)
    outcome = create(_new("ANN@example.com", batch="b1"), NoParams(), res)
    assert (outcome.status, _code(outcome)) == (ItemStatus.FAILED, "email_in_use")


def test_the_password_is_kept_hashed_and_never_shown(res: UsersResources) -> None:
    outcome = create(_new("ann@example.com"), NoParams(), res)
    user = res.users.get(_out(outcome)["userId"])
    assert user is not None and user.password_hash == "fake$11"
    assert "s3cret-pass" not in repr(as_json(user)) and "password" not in repr(as_json(user)).lower()


def test_scrypt_hashes_are_salted_and_verify() -> None:
    hasher = ScryptHasher(log2_n=10)
    one, two = hasher.hash("s3cret-pass"), hasher.hash("s3cret-pass")
    assert one != two and one.startswith("scrypt$10$8$1$") and "s3cret" not in one
    assert ScryptHasher.verify("s3cret-pass", one) and not ScryptHasher.verify("other-pass", one)


def test_the_password_is_the_one_secret_field_and_drops_from_the_public_view() -> None:
    assert secret_fields(NewUser) == frozenset({"password"})
    body = NewUser.model_validate({"email": "a@b.io", "name": "A", "password": "12345678"}).model_dump(by_alias=True)
    line = public_line(ItemRef("a@b.io", body), secret_fields(NewUser))
    assert line == b'{"itemId":"a@b.io","input":{"email":"a@b.io","name":"A"}}\n'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "x", "role": "admin"}, "field(s) 'role' cannot be updated; allowed: name, email"),
        ({}, "at least one field is required; allowed: name, email"),
        ({"name": None}, "field(s) name must not be null"),
        ({"email": "not-an-email"}, "not a valid email address"),
    ],
)
def test_an_update_names_what_is_wrong_with_its_data(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError) as e:
        UserUpdate.model_validate({"id": "u1", "data": data})
    assert expected in str(e.value)


def _update(user_id: str, index: int, **data: Any) -> ItemTask:
    item = UserUpdate.model_validate({"id": user_id, "data": data})
    return _task(ItemRef(item.id, {"id": item.id, "data": item.data.changes()}), index, batch="b2")


def test_updates_fail_by_reason_and_succeed_once(res: UsersResources) -> None:
    ann = _out(create(_new("ann@example.com", 0), NoParams(), res))["userId"]
    create(_new("bea@example.com", 1), NoParams(), res)
    assert _code(update(_update("nobody", 0, name="X"), NoParams(), res)) == "not_found"
    assert _code(update(_update(ann, 1, email="bea@example.com"), NoParams(), res)) == "email_in_use"
    done = update(_update(ann, 2, name="Ann B", email="ann.b@example.com"), NoParams(), res)
    assert done.output == {"userId": ann, "updated": ["email", "name"]}
    assert update(_update(ann, 2, name="Ann B", email="ann.b@example.com"), NoParams(), res).message.endswith(REPLAYED)
    soft_delete(_task(ItemRef(ann), 3), NoParams(), res)
    assert _code(update(_update(ann, 4, name="Z"), NoParams(), res)) == "user_deleted"


def test_a_login_time_defaults_to_now_and_a_second_delete_says_so(res: UsersResources) -> None:
    ann = _out(create(_new("ann@example.com"), NoParams(), res))["userId"]
    at = RecordLoginParams.model_validate({"at": "2026-01-02T03:04:05Z"})
    assert _out(record_login(_task(ItemRef(ann), 1), at, res))["lastLoginAt"] == "2026-01-02T03:04:05.000Z"
    assert (
        _out(record_login(_task(ItemRef(ann), 2), RecordLoginParams(), res))["lastLoginAt"]
        == "2026-11-26T12:00:00.000Z"
    )
    first = soft_delete(_task(ItemRef(ann), 3), NoParams(), res)
    second = soft_delete(_task(ItemRef(ann), 4), NoParams(), res)
    assert _out(first)["deletedAt"] == "2026-11-26T12:00:00.000Z"
    assert (second.status, second.output) == (ItemStatus.SUCCEEDED, {"userId": ann, "alreadyDeleted": True})
    assert _code(record_login(_task(ItemRef(ann), 5), RecordLoginParams(), res)) == "user_deleted"


def test_login_times_need_a_time_zone() -> None:
    with pytest.raises(ValidationError):
        RecordLoginParams.model_validate({"at": "2026-01-02T03:04:05"})
    assert TypeAdapter(list[NewUser]).validate_python([{"email": "a@b.io", "name": "A", "password": "12345678"}])


def test_scrypt_hashes_in_flight_are_bounded_by_half_the_functions_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_environ(
        {
            "BATCHES_TABLE": "t",
            "ITEMS_BUCKET": "b",
            "PASSWORD_HASH_COST": "15",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        }
    )
    hasher = users_family._hasher(settings)
    assert (hasher.log2_n, hasher.max_parallel) == (15, 8)  # 256 MiB / 32 MiB
    running, peak, lock = 0, 0, threading.Lock()

    def slow_derive(*args: Any) -> bytes:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return b"k"

    monkeypatch.setattr(passwords, "_derive", slow_derive)
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(ScryptHasher(10, max_parallel=3).hash, ["p" * 8] * 40))
    assert peak == 3
