"""The content operations, as plug-ins of the batch engine."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import StringConstraints

from batchops.content.fields import (
    METADATA_FIELDS,
    ContentFields,
    ContentId,
    ContentType,
    Description,
    Flag,
    Price,
    RefundWindowDays,
    Title,
)
from batchops.content.models import Change, ChangeReplayedError, ContentExistsError
from batchops.content.ports import ContentRepository, ContractGateway
from batchops.content.service import as_json, new_content
from batchops.domain.errors import ContentNotFoundError, ContentRemovedError, ContractSyncError
from batchops.domain.models import ErrorInfo, ItemOutcome, ItemRef
from batchops.domain.ports import ItemTask
from batchops.operations.camel import CamelModel, NoParams
from batchops.operations.exactly_once import REPLAYED, change_id, created_id
from batchops.operations.partial_updates import PartialUpdate
from batchops.operations.registry import Operation


@dataclass(frozen=True)
class ContentResources:
    content: ContentRepository
    contract: ContractGateway


class UpdatePriceParams(CamelModel):
    new_price: Price


class RemoveParams(CamelModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class MetadataUpdates(PartialUpdate):
    allowed = METADATA_FIELDS

    title: Title | None = None
    description: Description | None = None
    content_type: ContentType | None = None
    token_gating: Flag | None = None
    refundable: Flag | None = None
    refund_window_days: RefundWindowDays | None = None


class UpdateMetadataParams(CamelModel):
    updates: MetadataUpdates


def _content_ref(content_id: str) -> ItemRef:
    return ItemRef(content_id)


def _body_ref(fields: ContentFields) -> ItemRef:
    return ItemRef(None, fields.model_dump(mode="json", by_alias=True))


def _content_id(task: ItemTask) -> str:
    assert task.ref.item_id is not None, "content operations on ids have an id per item"
    return task.ref.item_id


def _change(task: ItemTask, attributes: dict[str, Any], require_active: bool) -> Change:
    return Change(_content_id(task), task.owner, attributes, task.batch_id, change_id(task), task.now, require_active)


def _not_found() -> ItemOutcome:
    # The same answer for a missing item and another owner's, so nothing leaks about the latter.
    return ItemOutcome.failed("not_found", "Content not found")


def _synced(message: str, output: dict[str, Any], sync: Callable[[], str | None]) -> ItemOutcome:
    """The database change is done; sync it downstream. A sync failure is a warning, never a failure."""
    try:
        tx_id = sync()
    except ContractSyncError as e:
        warning = ErrorInfo("contract_sync_failed", str(e))
        return ItemOutcome.succeeded(f"{message} (off-chain only)", output, (warning,))
    if tx_id is not None:
        output = {**output, "txId": tx_id}
    return ItemOutcome.succeeded(message, output)


# Exactly once per batch item: every change carries its batch item's id (batchId#index) and the database
# refuses the same change twice (ChangeReplayedError), so an item run again after a crash reports the change
# instead of repeating it. The downstream sync is sent again then: it sets a value, so repeating it is harmless,
# and losing it (a crash between the change and the sync) is not.


def update_price(task: ItemTask, params: UpdatePriceParams, res: ContentResources) -> ItemOutcome:
    content_id, price = _content_id(task), params.new_price
    output: dict[str, Any] = {"contentId": content_id, "price": price}
    message = f"Price updated to {price}"
    try:
        before = res.content.apply(_change(task, {"price": price}, require_active=True))
        # Absent: the price was already this one (an update that changes nothing may return nothing for it).
        output = {"contentId": content_id, "previousPrice": before.get("price", price), "price": price}
    except ContentNotFoundError:
        return _not_found()
    except ContentRemovedError:
        return ItemOutcome.failed("content_removed", "Content is removed; its price cannot be changed")
    except ChangeReplayedError:
        message += REPLAYED
    return _synced(message, output, lambda: res.contract.update_price(content_id, price))


def remove(task: ItemTask, params: RemoveParams, res: ContentResources) -> ItemOutcome:
    content_id = _content_id(task)
    attributes = {"isRemoved": True, "removedAt": task.now, "removalReason": params.reason}
    message = "Content removed"
    try:
        res.content.apply(_change(task, attributes, require_active=True))
    except ContentNotFoundError:
        return _not_found()
    except ContentRemovedError:
        return ItemOutcome.succeeded("Content was already removed", {"contentId": content_id, "alreadyRemoved": True})
    except ChangeReplayedError:
        message += REPLAYED
    output = {"contentId": content_id, "removed": True}
    return _synced(message, output, lambda: res.contract.remove(content_id, params.reason))


def update_metadata(task: ItemTask, params: UpdateMetadataParams, res: ContentResources) -> ItemOutcome:
    changes = params.updates.changes()
    fields = sorted(changes)
    message = f"Metadata updated: {', '.join(fields)}"
    try:
        res.content.apply(_change(task, changes, require_active=False))
    except ContentNotFoundError:
        return _not_found()
    except ChangeReplayedError:
        message += REPLAYED
    return ItemOutcome.succeeded(message, {"contentId": _content_id(task), "updated": fields})


# A batch item's content id is derived from its batch and index: run again, it finds the content it created.
_CREATED_IDS = uuid.UUID("6f1d6c52-8a1e-4d0c-9a57-2f3b8c1e5d10")


def create(task: ItemTask, params: NoParams, res: ContentResources) -> ItemOutcome:
    content = new_content(
        created_id(_CREATED_IDS, task),
        task.owner,
        ContentFields.model_validate(task.ref.body),
        task.now,
        change_id(task),
    )
    message = "Content created"
    try:
        res.content.create(content)
    except ContentExistsError:
        current = res.content.get(content.content_id)
        if current is None or current.owner != task.owner or current.last_change_id != change_id(task):
            return ItemOutcome.failed("conflict", "A content item with this item's id exists already")
        content, message = current, message + REPLAYED
    return ItemOutcome.succeeded(message, as_json(content))


CONTENT_OPERATIONS: tuple[Operation[Any, ContentResources], ...] = (
    Operation(
        "content.update-price",
        "Set the price of content items",
        UpdatePriceParams,
        ContentId,
        _content_ref,
        update_price,
    ),
    Operation("content.remove", "Remove content items, with a reason", RemoveParams, ContentId, _content_ref, remove),
    Operation(
        "content.create",
        "Create content items, one per item body (the POST /content model)",
        NoParams,
        ContentFields,
        _body_ref,
        create,
    ),
    Operation(
        "content.update-metadata",
        "Change descriptive fields of content items",
        UpdateMetadataParams,
        ContentId,
        _content_ref,
        update_metadata,
    ),
)
