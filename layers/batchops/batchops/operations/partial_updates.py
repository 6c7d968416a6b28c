"""Item models that change some fields of a record: unknown, missing and null fields are refused by name."""

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel


class PartialUpdate(BaseModel):
    """At least one of the model's fields, none null, and no other: the error lists the allowed ones."""

    # Unknown keys are collected rather than forbidden, so the error can list the allowed ones.
    model_config = ConfigDict(alias_generator=to_camel, validate_by_alias=True, validate_by_name=False, extra="allow")
    # The fields in the order the error lists them (as the client names them).
    allowed: ClassVar[Sequence[str]]

    @model_validator(mode="after")
    def _only_known_non_null_fields(self) -> "PartialUpdate":
        allowed = ", ".join(self.allowed)
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
