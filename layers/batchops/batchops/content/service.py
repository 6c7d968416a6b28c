"""Creating and reading content items."""

from dataclasses import dataclass

from batchops.content.fields import ContentFields
from batchops.content.models import Content
from batchops.content.ports import ContentRepository
from batchops.domain.errors import ContentNotFoundError
from batchops.domain.ports import Clock, IdGenerator


@dataclass(frozen=True)
class ContentService:
    repo: ContentRepository
    clock: Clock
    ids: IdGenerator

    def create(self, owner: str, fields: ContentFields) -> Content:
        now = self.clock.now()
        content = Content(
            content_id=self.ids.new_id(),
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
        )
        self.repo.create(content)
        return content

    def get(self, owner: str, content_id: str) -> Content:
        content = self.repo.get(content_id)
        if content is None or content.owner != owner:
            raise ContentNotFoundError(content_id)
        return content
