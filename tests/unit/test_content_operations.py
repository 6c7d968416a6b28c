"""The content plug-ins: per-item semantics, independent of the engine and of AWS."""

from datetime import UTC, datetime
from typing import Any

from batchops.content.family import CONTENT
from batchops.content.operations import ContentResources
from batchops.domain.models import ItemOutcome, ItemRef, ItemStatus
from batchops.domain.ports import ItemTask
from batchops.operations.catalog import REGISTRY
from batchops.operations.registry import BoundOperations
from tests.unit.fakes import FakeContract, InMemoryContent, content

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _run(operation: str, item_id: str, params: dict[str, Any], *, owner: str = "alice", **state: Any) -> ItemOutcome:
    return _runner(**state).run(operation, ItemTask("batch-1", owner, 0, ItemRef(item_id), params, NOW))


def _runner(store: InMemoryContent | None = None, contract: FakeContract | None = None) -> BoundOperations:
    return REGISTRY.bind(
        CONTENT.with_resources(ContentResources(store or InMemoryContent(), contract or FakeContract()))
    )


def test_price_update_sets_price_updated_at_and_batch_and_returns_the_tx_id() -> None:
    store = InMemoryContent({"a": content("a", price=10)})
    outcome = _run("content.update-price", "a", {"newPrice": 20}, store=store)
    assert outcome.status is ItemStatus.SUCCEEDED
    assert outcome.output == {"contentId": "a", "previousPrice": 10, "price": 20, "txId": "tx-a"}
    updated = store.contents["a"]
    assert (updated.price, updated.updated_at, updated.last_batch_id) == (20, NOW, "batch-1")


def test_missing_and_foreign_items_fail_alike_and_are_not_touched() -> None:
    store = InMemoryContent({"theirs": content("theirs", owner="bob")})
    outcomes = [_run("content.update-price", i, {"newPrice": 1}, store=store) for i in ("theirs", "missing")]
    assert outcomes[0] == outcomes[1]
    assert outcomes[0].error is not None and outcomes[0].error.code == "not_found"
    assert store.contents["theirs"].price == 100


def test_price_update_of_removed_content_fails_and_is_not_synced() -> None:
    store, contract = InMemoryContent({"a": content("a", is_removed=True)}), FakeContract()
    outcome = _run("content.update-price", "a", {"newPrice": 1}, store=store, contract=contract)
    assert outcome.error is not None and outcome.error.code == "content_removed"
    assert contract.calls == []


def test_a_failed_sync_is_a_warning_and_the_change_stays() -> None:
    store, contract = InMemoryContent({"a": content("a")}), FakeContract(failing={"a"})
    outcome = _run("content.remove", "a", {"reason": "old"}, store=store, contract=contract)
    assert outcome.status is ItemStatus.SUCCEEDED
    assert outcome.message == "Content removed (off-chain only)"
    assert [w.code for w in outcome.warnings] == ["contract_sync_failed"]
    assert store.contents["a"].is_removed and store.contents["a"].removal_reason == "old"


def test_removing_removed_content_succeeds_saying_so_without_a_second_sync() -> None:
    store, contract = InMemoryContent({"a": content("a", is_removed=True)}), FakeContract()
    outcome = _run("content.remove", "a", {"reason": "again"}, store=store, contract=contract)
    assert (outcome.status, outcome.message) == (ItemStatus.SUCCEEDED, "Content was already removed")
    assert contract.calls == []


def test_metadata_update_changes_only_the_given_fields_and_is_never_synced() -> None:
    store, contract = InMemoryContent({"a": content("a")}), FakeContract()
    outcome = _run("content.update-metadata", "a", {"updates": {"title": "New"}}, store=store, contract=contract)
    assert outcome.output == {"contentId": "a", "updated": ["title"]}
    assert (store.contents["a"].title, store.contents["a"].price) == ("New", 100)
    assert contract.calls == []
