"""DynamoDB tables in moto for the unit tests, keyed as the stack's are: `pk`, and `sk` where it has one."""

from typing import Any


def create_table(db: Any, name: str, *, sort_key: bool = True) -> None:
    keys = ["pk", "sk"] if sort_key else ["pk"]
    db.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in zip(keys, ("HASH", "RANGE"), strict=False)],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys],
        BillingMode="PAY_PER_REQUEST",
    )
