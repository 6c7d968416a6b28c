"""What content operations need from the outside world."""

from typing import Any, Protocol

from batchops.content.models import Change, Content


class ContentRepository(Protocol):
    def create(self, content: Content) -> None:
        """Raises ContentExistsError when its id is taken."""

    def get(self, content_id: str) -> Content | None: ...

    def apply(self, change: Change) -> dict[str, Any]:
        """Apply a change if the caller owns the item; returns the changed attributes' values before it.

        Raises ContentNotFoundError (missing or another owner's), ContentRemovedError, ChangeReplayedError (the
        same batch item applied it already)."""


class ContractGateway(Protocol):
    def update_price(self, content_id: str, price: int) -> str | None:
        """Sync a price downstream; the transaction id, or None when no endpoint is configured."""

    def remove(self, content_id: str, reason: str) -> str | None: ...
