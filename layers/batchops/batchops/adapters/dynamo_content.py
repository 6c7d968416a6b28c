"""ContentRepository over DynamoDB: one record per content item, keyed by contentId."""

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from batchops.adapters.aws_errors import aws_errors
from batchops.adapters.dynamo_codec import (
    from_item,
    is_condition_failure,
    parse_time,
    set_attributes,
    to_attr,
    to_item,
)
from batchops.content.models import Change, ChangeReplayedError, Content, ContentExistsError
from batchops.domain.errors import ContentNotFoundError, ContentRemovedError


class DynamoContentRepository:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._db = client

    def create(self, content: Content) -> None:
        with aws_errors("storing content"):
            try:
                self._db.put_item(
                    TableName=self._table,
                    Item=to_item(self._record(content)),
                    ConditionExpression="attribute_not_exists(contentId)",
                )
            except ClientError as e:
                if not is_condition_failure(e):
                    raise
                raise ContentExistsError(content.content_id) from e

    def get(self, content_id: str) -> Content | None:
        with aws_errors("reading content"):
            reply = self._db.get_item(
                TableName=self._table, Key={"contentId": to_attr(content_id)}, ConsistentRead=True
            )
        return self._to_content(from_item(reply["Item"])) if "Item" in reply else None

    def apply(self, change: Change) -> dict[str, Any]:
        attributes = {
            **change.attributes,
            "updatedAt": change.at,
            "lastBatchId": change.batch_id,
            "lastChangeId": change.change_id,
        }
        expression, names, values = set_attributes(attributes)
        # Not again for the same batch item: a chunk run again after a crash finds its change applied.
        condition = "#owner = :owner AND (attribute_not_exists(lastChangeId) OR lastChangeId <> :change)"
        values[":change"] = to_attr(change.change_id)
        if change.require_active:
            condition += " AND isRemoved = :false"
            values[":false"] = to_attr(False)
        with aws_errors("updating content"):
            try:
                reply = self._db.update_item(
                    TableName=self._table,
                    Key={"contentId": to_attr(change.content_id)},
                    UpdateExpression=expression,
                    # A missing item has no owner, so the owner check also requires the item to exist.
                    ConditionExpression=condition,
                    ExpressionAttributeNames={**names, "#owner": "owner"},
                    ExpressionAttributeValues={**values, ":owner": to_attr(change.owner)},
                    # Only what changed: the whole item back costs a read of it for every item of a batch.
                    ReturnValues="UPDATED_OLD",
                )
            except ClientError as e:
                if not is_condition_failure(e):
                    raise
                raise self._why_refused(change) from e
        return from_item(reply.get("Attributes", {}))

    def _why_refused(self, change: Change) -> Exception:
        current = self.get(change.content_id)
        if current is None or current.owner != change.owner:
            return ContentNotFoundError(change.content_id)
        if current.last_change_id == change.change_id:
            return ChangeReplayedError(current)
        return ContentRemovedError(change.content_id)

    @staticmethod
    def _record(c: Content) -> dict[str, Any]:
        return {
            "contentId": c.content_id,
            "owner": c.owner,
            "title": c.title,
            "description": c.description,
            "contentType": c.content_type,
            "price": c.price,
            "tokenGating": c.token_gating,
            "refundable": c.refundable,
            "refundWindowDays": c.refund_window_days,
            "isRemoved": c.is_removed,
            "removedAt": c.removed_at,
            "removalReason": c.removal_reason,
            "createdAt": c.created_at,
            "updatedAt": c.updated_at,
            "lastBatchId": c.last_batch_id,
            "lastChangeId": c.last_change_id,
        }

    @staticmethod
    def _to_content(r: dict[str, Any]) -> Content:
        return Content(
            content_id=r["contentId"],
            owner=r["owner"],
            title=r["title"],
            description=r.get("description", ""),
            content_type=r["contentType"],
            price=r["price"],
            token_gating=r.get("tokenGating", False),
            refundable=r.get("refundable", False),
            refund_window_days=r.get("refundWindowDays", 0),
            created_at=datetime.fromisoformat(r["createdAt"]),
            updated_at=datetime.fromisoformat(r["updatedAt"]),
            is_removed=r.get("isRemoved", False),
            removed_at=parse_time(r.get("removedAt")),
            removal_reason=r.get("removalReason"),
            last_batch_id=r.get("lastBatchId"),
            last_change_id=r.get("lastChangeId"),
        )
