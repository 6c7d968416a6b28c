"""DynamoDB transactions in moto at the cost they have on AWS: of the items they name, not of the tables.

moto's TransactWriteItems deep-copies every table a transaction touches, whole, to roll back if one part
fails. A chunk writes its results and counts in one transaction about once a second, to a table that holds
every batch's records: the copy grew with the table, to seconds per write for a 100,000-item batch. Here
only the items a transaction names are set aside, and put back if it fails. The local endpoint runs one
table operation at a time (local/aws_endpoint.py), so no other request changes them in between: the
outcome is the same as moto's, and as DynamoDB's.
"""

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb import models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

Transact = Callable[[DynamoDBBackend, list[dict[str, Any]]], None]
Saved = tuple[Table, DynamoType, DynamoType | None, Item | None]


class _TableCopies(threading.local):
    skipped = False


_skip = _TableCopies()


class _CopyModule:
    """moto.dynamodb.models' `copy`, except that a table is not copied while a transaction sets its items aside."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if _skip.skipped and isinstance(value, Table):
            return value  # its "rollback" then puts the same table back: the items are restored below
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _key(table: Table, key: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return DynamoType(key[table.hash_key_attr]), range_value


def _set_aside(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Saved]:
    saved: list[Saved] = []
    for part in transact_items:
        for operation in part.values():
            table = backend.tables.get(operation.get("TableName"))
            key = operation.get("Key") or operation.get("Item")
            if table is None or not key or table.hash_key_attr not in key:
                continue
            hash_value, range_value = _key(table, key)
            saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    return saved


def _put_back(saved: list[Saved]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        if item is None:
            if table.get_item(hash_value, range_value) is not None:
                table.delete_item(hash_value, range_value)
        elif range_value is not None:
            table.items[hash_value][range_value] = item
        else:
            table.items[hash_value] = item  # type: ignore[assignment]  # a table without a range key


@contextmanager
def _without_table_copies() -> Iterator[None]:
    _skip.skipped = True
    try:
        yield
    finally:
        _skip.skipped = False


class MotoTransactions:
    def __init__(self) -> None:
        self._original: Transact | None = None
        self._copy_module: Any = None

    def install(self) -> None:
        original: Transact = DynamoDBBackend.transact_write_items
        self._original, self._copy_module = original, vars(models)["copy"]

        def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
            saved = _set_aside(backend, transact_items)
            try:
                with _without_table_copies():
                    original(backend, transact_items)
            except Exception:
                _put_back(saved)
                raise

        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
        vars(models)["copy"] = _CopyModule()

    def uninstall(self) -> None:
        if self._original is not None:
            DynamoDBBackend.transact_write_items = self._original  # type: ignore[method-assign,assignment]
            vars(models)["copy"] = self._copy_module
            self._original = None
