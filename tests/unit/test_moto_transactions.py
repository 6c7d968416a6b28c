"""The offline stack's DynamoDB transactions: atomic as before, without copying whole tables."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

from local.moto_transactions import MotoTransactions
from tests.unit.moto_tables import create_table

TABLE = "t"


@pytest.fixture
def db() -> Iterator[Any]:
    installed = MotoTransactions()
    installed.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        yield client
    installed.uninstall()


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "x"}}


def _put(pk: str, n: int) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {**_key(pk), "n": {"N": str(n)}}}}


def _n(db: Any, pk: str) -> int | None:
    item = db.get_item(TableName=TABLE, Key=_key(pk)).get("Item")
    return int(item["n"]["N"]) if item else None


def test_a_transaction_copies_no_table(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Table, memo: Any) -> Table:
        raise AssertionError("a whole table was copied")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)
    db.transact_write_items(TransactItems=[_put("a", 1), _put("b", 2)])
    assert (_n(db, "a"), _n(db, "b")) == (1, 2)


def test_a_failed_transaction_leaves_every_item_it_names_as_it_was(db: Any) -> None:
    db.put_item(TableName=TABLE, Item={**_key("a"), "n": {"N": "1"}})
    update = {
        "Update": {
            "TableName": TABLE,
            "Key": _key("a"),
            "UpdateExpression": "SET n = :n",
            "ExpressionAttributeValues": {":n": {"N": "5"}},
        }
    }
    refused = {"ConditionCheck": {"TableName": TABLE, "Key": _key("c"), "ConditionExpression": "attribute_exists(pk)"}}
    with pytest.raises(ClientError, match="TransactionCanceled"):
        db.transact_write_items(TransactItems=[update, _put("b", 2), refused])
    assert (_n(db, "a"), _n(db, "b"), _n(db, "c")) == (1, None, None)
