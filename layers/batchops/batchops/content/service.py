"""Creating and reading content items."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchops.content.fields import ContentFields
from batchops.content.models import Content
from batchops.content.ports import ContentRepository
from batchops.domain.errors import ContentNotFoundError
from batchops.domain.ports import Clock, IdGenerator
from batchops.domain.times import iso


def new_content(
    content_id: str, owner: str, fields: ContentFields, now: datetime, change_id: str | None = None
) -> Content:
    return Content(
        content_id=content_id,
        owner=owner,
        title=fields.title,
        description=fields.description,
        content_type=fields.content_type,
        price=fields.price,
        token_gating=fields.token_gating,
        refundable=fields.refundable,
        refund_window_days=fields.refund_window_days,
        created_at=now,
        updated_at=now,
        last_change_id=change_id,
    )


def as_json(c: Content) -> dict[str, Any]:
    """A content item as the API shows it (camelCase, times in ISO 8601 UTC)."""
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
        "removedAt": iso(c.removed_at),
        "removalReason": c.removal_reason,
        "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at),
        "lastBatchId": c.last_batch_id,
    }


@dataclass(frozen=True)
class ContentService:
    repo: ContentRepository
    clock: Clock
    ids: IdGenerator

    def create(self, owner: str, fields: ContentFields) -> Content:
        content = new_content(self.ids.new_id(), owner, fields, self.clock.now())
        self.repo.create(content)
        return content

    def get(self, owner: str, content_id: str) -> Content:
        content = self.repo.get(content_id)
        if content is None or content.owner != owner:
            raise ContentNotFoundError(content_id)
        return content
