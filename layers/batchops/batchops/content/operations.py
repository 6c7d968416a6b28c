"""The content operations, as plug-ins of the batch engine."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from batchops.content.fields import (
    METADATA_FIELDS,
    CamelModel,
    ContentId,
    ContentType,
    Description,
    Flag,
    Price,
    RefundWindowDays,
    Title,
)
from batchops.content.models import Change
from batchops.content.ports import ContentRepository, ContractGateway
from batchops.domain.errors import ContentNotFoundError, ContentRemovedError, ContractSyncError
from batchops.domain.models import ErrorInfo, ItemOutcome, ItemRef
from batchops.domain.ports import ItemTask
from batchops.operations.registry import Operation


@dataclass(frozen=True)
class ContentResources:
    content: ContentRepository
    contract: ContractGateway


class UpdatePriceParams(CamelModel):
    new_price: Price


class RemoveParams(CamelModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class MetadataUpdates(CamelModel):
    # Unknown keys are collected rather than forbidden, so the error can list the allowed ones.
    model_config = ConfigDict(alias_generator=to_camel, validate_by_alias=True, validate_by_name=False, extra="allow")

    title: Title | None = None
    description: Description | None = None
    content_type: ContentType | None = None
    token_gating: Flag | None = None
    refundable: Flag | None = None
    refund_window_days: RefundWindowDays | None = None

    @model_validator(mode="after")
    def _only_known_non_null_fields(self) -> "MetadataUpdates":
        allowed = ", ".join(METADATA_FIELDS)
        unknown = sorted(self.model_extra or {})
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            raise ValueError(f"field(s) {names} cannot be updated; allowed: {allowed}")
        if not self.model_fields_set:
            raise ValueError(f"at least one field is required; allowed: {allowed}")
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"field(s) {', '.join(nulls)} must not be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_unset=True)


class UpdateMetadataParams(CamelModel):
    updates: MetadataUpdates


def _content_ref(content_id: str) -> ItemRef:
    return ItemRef(content_id)


def _change(task: ItemTask, attributes: dict[str, Any], require_active: bool) -> Change:
    return Change(task.ref.item_id, task.owner, attributes, task.batch_id, task.now, require_active)


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


def update_price(task: ItemTask, params: UpdatePriceParams, res: ContentResources) -> ItemOutcome:
    content_id, price = task.ref.item_id, params.new_price
    try:
        before = res.content.apply(_change(task, {"price": price}, require_active=True))
    except ContentNotFoundError:
        return _not_found()
    except ContentRemovedError:
        return ItemOutcome.failed("content_removed", "Content is removed; its price cannot be changed")
    output = {"contentId": content_id, "previousPrice": before.price, "price": price}
    return _synced(f"Price updated to {price}", output, lambda: res.contract.update_price(content_id, price))


def remove(task: ItemTask, params: RemoveParams, res: ContentResources) -> ItemOutcome:
    content_id = task.ref.item_id
    attributes = {"isRemoved": True, "removedAt": task.now, "removalReason": params.reason}
    try:
        res.content.apply(_change(task, attributes, require_active=True))
    except ContentNotFoundError:
        return _not_found()
    except ContentRemovedError:
        return ItemOutcome.succeeded("Content was already removed", {"contentId": content_id, "alreadyRemoved": True})
    output = {"contentId": content_id, "removed": True}
    return _synced("Content removed", output, lambda: res.contract.remove(content_id, params.reason))


def update_metadata(task: ItemTask, params: UpdateMetadataParams, res: ContentResources) -> ItemOutcome:
    changes = params.updates.changes()
    try:
        res.content.apply(_change(task, changes, require_active=False))
    except ContentNotFoundError:
        return _not_found()
    fields = sorted(changes)
    return ItemOutcome.succeeded(
        f"Metadata updated: {', '.join(fields)}", {"contentId": task.ref.item_id, "updated": fields}
    )


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
        "content.update-metadata",
        "Change descriptive fields of content items",
        UpdateMetadataParams,
        ContentId,
        _content_ref,
        update_metadata,
    ),
)
