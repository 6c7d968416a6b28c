"""`make run`'s line per batch status change, read from the changes of the batch's record in moto's table."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from batchops.adapters.dynamo_batches import DynamoBatchRepository
from batchops.adapters.dynamo_keys import meta_key
from batchops.domain.models import Batch, BatchOptions, BatchStatus, Counts, ErrorInfo, ItemSource, ManifestFormat
from local.batch_changes import BatchChanges, change_line
from local.moto_transactions import MotoTransactions
from tests.unit.moto_tables import create_table

TABLE = "batches"
PENDING = Batch(
    batch_id="b1",
    owner="ann",
    operation="content.update-price",
    status=BatchStatus.PENDING,
    total_items=20,
    params={},
    options=BatchOptions(),
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    source=ItemSource(key="batches/b1/items.jsonl", format=ManifestFormat.JSONL),
)


class Lines:
    def __init__(self) -> None:
        self._written: list[str] = []

    def write(self, line: str) -> None:
        self._written.append(line)

    def take(self) -> list[str]:
        taken, self._written = self._written, []
        return taken


@pytest.fixture
def lines() -> Iterator[Lines]:
    # As the stack has them: moto's transactions without table copies, then the feed of batch changes.
    transactions = MotoTransactions()
    transactions.install()
    seen = Lines()
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        create_table(db, TABLE)
        changes = BatchChanges(TABLE, "us-east-1", seen.write)
        changes.install()
        DynamoBatchRepository(TABLE, db).create(PENDING)
        try:
            yield seen
        finally:
            changes.uninstall()
    transactions.uninstall()


def _db() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


def _update(expression: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "Key": meta_key("b1"),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": values,
    }


def _add_succeeded(n: int) -> dict[str, Any]:
    return _update("ADD succeededItems :n", {":n": {"N": str(n)}})


def _set_status(status: str) -> dict[str, Any]:
    return _update("SET #s = :s", {":s": {"S": status}}) | {"ExpressionAttributeNames": {"#s": "status"}}


def test_each_status_of_the_record_is_a_line_with_its_counts(lines: Lines) -> None:
    assert lines.take() == ["batch b1 pending 0/20 succeeded=0 failed=0 skipped=0"]
    _db().update_item(**_set_status("processing"))
    _db().update_item(**_update("SET expiresAt = :n", {":n": {"N": "1"}}))  # no status change: no line
    assert lines.take() == ["batch b1 processing 0/20 succeeded=0 failed=0 skipped=0"]


def test_while_processing_a_line_per_tenth_of_the_items_done(lines: Lines) -> None:
    _db().update_item(**_set_status("processing"))
    lines.take()
    for _ in range(4):
        _db().update_item(**_add_succeeded(1))  # 5 % each: a line at 10 % and at 20 %
    assert lines.take() == [
        "batch b1 processing 2/20 succeeded=2 failed=0 skipped=0",
        "batch b1 processing 4/20 succeeded=4 failed=0 skipped=0",
    ]


def test_a_transaction_that_fails_prints_none_of_its_changes(lines: Lines) -> None:
    lines.take()
    refused = {
        "ConditionCheck": {"TableName": TABLE, "Key": meta_key("nope"), "ConditionExpression": "attribute_exists(pk)"}
    }
    with pytest.raises(ClientError, match="TransactionCanceled"):
        _db().transact_write_items(TransactItems=[{"Update": _set_status("failed")}, refused])
    assert lines.take() == []
    _db().transact_write_items(TransactItems=[{"Update": _set_status("cancelled")}])
    assert lines.take() == ["batch b1 cancelled 0/20 succeeded=0 failed=0 skipped=0"]


def test_a_final_line_tells_why_a_batch_failed_and_a_scheduled_one_when() -> None:
    counts = Counts(succeeded=3, failed=2, skipped=15)
    failed = replace(PENDING, status=BatchStatus.FAILED, counts=counts, error=ErrorInfo("stopped_on_error", "..."))
    assert change_line(PENDING, failed) == "batch b1 failed 5/20 succeeded=3 failed=2 skipped=15 error=stopped_on_error"
    at = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
    scheduled = replace(PENDING, status=BatchStatus.SCHEDULED, options=BatchOptions(scheduled_for=at), total_items=None)
    line = "batch b1 scheduled 0/? succeeded=0 failed=0 skipped=0 for=2026-02-01T09:30:00+00:00"
    assert change_line(None, scheduled) == line
    assert change_line(scheduled, scheduled) is None
