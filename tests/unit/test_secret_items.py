"""Items with secret fields (users.create's password) through the engine: set apart before any item runs,
never recorded, deleted once the batch is final."""

import json

import pytest

from batchops.domain.batches import Caller, Submission
from batchops.domain.errors import SecretsDeletedError
from batchops.domain.models import BatchOptions, BatchStatus, ManifestFormat
from tests.unit.world import World

SECRET = "hunter2-and-more"


def _upload(world: World, data: bytes, fmt: ManifestFormat) -> str:
    ticket = world.uploads.create("alice", "up-1", fmt, world.clock.now())
    world.uploads.put(ticket.upload_id, data)
    options = BatchOptions(chunk_size=2, max_concurrency=1)
    submission = Submission(Caller("alice"), "users.create", {}, None, options, ticket.upload_id)
    return world.service.submit(submission).batch_id


def _everything(world: World) -> str:
    """All the store holds and all the batch records hold, as text."""
    stored = b"\n".join(world.store.objects.values()).decode()
    return stored + repr(world.repo.__dict__)


@pytest.mark.parametrize("fmt", [ManifestFormat.JSONL, ManifestFormat.CSV])
def test_secrets_are_set_apart_at_preparation_used_once_and_deleted_when_final(fmt: ManifestFormat) -> None:
    world = World()
    rows = [(f"u{n}@example.com", f"User {n}", f"{SECRET}-{n}") for n in range(5)]
    if fmt is ManifestFormat.CSV:
        data = "email,name,password\n" + "".join(f"{e},{n},{p}\n" for e, n, p in rows)
    else:
        data = "".join(json.dumps({"email": e, "name": n, "password": p}) + "\n" for e, n, p in rows)
    batch_id = _upload(world, data.encode(), fmt)

    prepared = world.start(batch_id)
    assert prepared.chunk_count == 3
    keys = set(world.store.objects)
    assert "uploads/up-1" not in keys, "the client's manifest holding secrets is deleted once set apart"
    assert {f"batches/{batch_id}/secrets/{n}.json" for n in range(3)} <= keys
    manifest = world.store.objects[f"batches/{batch_id}/items.public.jsonl"].decode()
    assert SECRET not in manifest and manifest.count("\n") == 5

    for number in range(3):
        world.run_chunk(batch_id, number)
    assert {u.email: u.password_hash for u in world.users.users.values()} == {
        e: f"fake${len(p)}" for e, _, p in rows
    }, "each item ran with its own password"
    world.finalizer.finalize(batch_id, None)

    batch = world.repo.batches[batch_id]
    assert (batch.status, batch.counts.succeeded) == (BatchStatus.COMPLETED, 5)
    assert not any("/secrets/" in key for key in world.store.objects)
    assert SECRET not in _everything(world)
    listed = [item.ref for item in world.items.all(batch)]
    assert [(r.item_id, r.body) for r in listed] == [(e, {"email": e, "name": n}) for e, n, _ in rows]
    with pytest.raises(SecretsDeletedError):
        world.service.retry(Caller("alice"), batch_id)


def test_an_invalid_manifest_with_secrets_is_deleted_and_nothing_runs() -> None:
    world = World()
    data = b'{"email": "a@example.com", "name": "A", "password": "' + SECRET.encode() + b'"}\n{"email": "bad"}\n'
    batch_id = _upload(world, data, ManifestFormat.JSONL)
    assert not world.start(batch_id).valid
    assert SECRET not in _everything(world)
    assert world.users.users == {}
