"""The content item as the domain sees it."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any


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


@dataclass(frozen=True)
class Change:
    """One conditional update of a content item, expressed in camelCase attribute names."""

    content_id: str
    owner: str
    attributes: dict[str, Any]
    batch_id: str
    at: datetime
    # Fail with ContentRemovedError instead of changing removed content.
    require_active: bool
