"""The content item as the domain sees it."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchops.domain.errors import BatchOpsError


@dataclass(frozen=True)
class Content:
    content_id: str
    owner: str
    title: str
    description: str
    content_type: str
    price: int
    token_gating: bool
    refundable: bool
    refund_window_days: int
    created_at: datetime
    updated_at: datetime
    is_removed: bool = False
    removed_at: datetime | None = None
    removal_reason: str | None = None
    last_batch_id: str | None = None
    # The batch item (batchId#index) that last changed it: a re-run of that item sees it is applied already.
    last_change_id: str | None = None


@dataclass(frozen=True)
class Change:
    """One conditional update of a content item, expressed in camelCase attribute names."""

    content_id: str
    owner: str
    attributes: dict[str, Any]
    batch_id: str
    # batchId#index: applying a change twice for the same batch item is detected, not repeated.
    change_id: str
    at: datetime
    # Fail with ContentRemovedError instead of changing removed content.
    require_active: bool


class ChangeReplayedError(BatchOpsError):
    """The change was applied already, by the same batch item (a chunk run again after a crash)."""

    def __init__(self, current: Content) -> None:
        self.current = current
        super().__init__(f"content {current.content_id} already has change {current.last_change_id}")


class ContentExistsError(BatchOpsError):
    def __init__(self, content_id: str) -> None:
        super().__init__(f"content {content_id} exists already")
