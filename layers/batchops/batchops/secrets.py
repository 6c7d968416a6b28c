"""Secret fields of item models: what a plug-in marks so that nothing but its operation ever reads it.

A secret (a user's password) reaches the item processor through the batch's private manifest only. It never
appears in item records, item listings, reports, events, webhooks, logs or execution history: everything that
shows an item's input shows its public view (batchops/domain/manifests.py: public_line).
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class SecretField:
    """Annotated metadata: `Annotated[str, ..., SecretField()]` marks a field of an item model as secret."""


def secret_fields(item_type: Any) -> frozenset[str]:
    """The names (as the client sends them) of an item model's secret fields; empty for id items."""
    if not (isinstance(item_type, type) and issubclass(item_type, BaseModel)):
        return frozenset()
    return frozenset(
        field.alias or name
        for name, field in item_type.model_fields.items()
        if any(isinstance(marker, SecretField) for marker in field.metadata)
    )
