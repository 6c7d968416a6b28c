"""Per-owner counters in the batches table: new batches per clock hour, and the webhook secret's version."""

from datetime import UTC, datetime, timedelta
from typing import Any

from batchops.adapters.aws_errors import aws_errors
from batchops.adapters.dynamo_codec import from_item, to_attr, update_if


def _hour_key(owner: str, now: datetime) -> dict[str, Any]:
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return {"pk": to_attr(f"RATE#{owner}"), "sk": to_attr(f"HOUR#{hour:%Y-%m-%dT%H}")}


class DynamoHourlyLimits:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._db = client

    def take(self, owner: str, now: datetime, limit: int) -> bool:
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        # One counter per owner and clock hour, raised only while under the limit: concurrent requests
        # can never get more slots than there are. It expires with the hour after.
        return update_if(
            self._db,
            self._table,
            "counting new batches",
            Key=_hour_key(owner, now),
            UpdateExpression="ADD taken :one SET expiresAt = :expires",
            ConditionExpression="attribute_not_exists(taken) OR taken < :limit",
            ExpressionAttributeValues={
                ":one": to_attr(1),
                ":limit": to_attr(limit),
                ":expires": to_attr(int((hour + timedelta(hours=2)).timestamp())),
            },
        )

    def give_back(self, owner: str, now: datetime) -> None:
        update_if(
            self._db,
            self._table,
            "returning a batch slot",
            Key=_hour_key(owner, now),
            UpdateExpression="ADD taken :minus_one",
            ConditionExpression="taken > :zero",
            ExpressionAttributeValues={":minus_one": to_attr(-1), ":zero": to_attr(0)},
        )


class DynamoSecretVersions:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._db = client

    @staticmethod
    def _key(owner: str) -> dict[str, Any]:
        return {"pk": to_attr(f"WEBHOOK#{owner}"), "sk": to_attr("SECRET")}

    def current_version(self, owner: str) -> int:
        with aws_errors("reading the webhook secret version"):
            reply = self._db.get_item(TableName=self._table, Key=self._key(owner), ConsistentRead=True)
        return int(from_item(reply["Item"]).get("version", 0)) if "Item" in reply else 0

    def next_version(self, owner: str) -> int:
        with aws_errors("rotating the webhook secret"):
            reply = self._db.update_item(
                TableName=self._table,
                Key=self._key(owner),
                UpdateExpression="ADD version :one",
                ExpressionAttributeValues={":one": to_attr(1)},
                ReturnValues="UPDATED_NEW",
            )
        return int(from_item(reply["Attributes"])["version"])
