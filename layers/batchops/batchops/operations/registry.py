"""The plug-in mechanism. The engine sees it only through RequestValidator, ItemDecoder and OperationRunner.

Operations come in families (batchops.operations.family): each runs with its own family's resources, so a
family brings its own store and clients without the engine or the other families knowing them."""

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from batchops.domain.errors import FieldProblem, InvalidRequestError
from batchops.domain.models import ItemOutcome, ItemRef
from batchops.domain.ports import ItemTask, ValidatedRequest
from batchops.secrets import secret_fields
from batchops.validation import problems_from


@dataclass(frozen=True)
class Operation[ParamsT: BaseModel, ResourcesT]:
    name: str
    description: str
    params_model: type[ParamsT]
    # A type pydantic validates one entry of `items` against, and how a valid entry becomes an ItemRef.
    item_type: Any
    to_ref: Callable[[Any], ItemRef]
    apply: Callable[[ItemTask, ParamsT, ResourcesT], ItemOutcome]


class OperationRegistry:
    def __init__(self, operations: Sequence[Operation[Any, Any]]) -> None:
        names = Counter(op.name for op in operations)
        if twice := sorted(name for name, n in names.items() if n > 1):
            raise ValueError(f"operations registered twice: {', '.join(twice)}")
        self._operations = {op.name: op for op in operations}
        self._item_adapters = {op.name: TypeAdapter(list[op.item_type]) for op in operations}  # type: ignore[name-defined]
        self._one_item = {op.name: TypeAdapter(op.item_type) for op in operations}

    @property
    def names(self) -> list[str]:
        return sorted(self._operations)

    def validate(self, operation: str, params: Mapping[str, Any], items: Sequence[Any]) -> ValidatedRequest:
        op = self._get(operation)
        problems: list[FieldProblem] = []
        try:
            parsed = op.params_model.model_validate(params)
        except ValidationError as e:
            problems += problems_from(e, ("params",))
        try:
            valid_items = self._item_adapters[operation].validate_python(items)
        except ValidationError as e:
            problems += problems_from(e, ("items",))
        if problems:
            raise InvalidRequestError(problems)
        return ValidatedRequest(
            parsed.model_dump(mode="json", by_alias=True, exclude_unset=True), [op.to_ref(i) for i in valid_items]
        )

    def item_ref(self, operation: str, value: Any, from_text: bool = False) -> ItemRef:
        """One manifest entry as an item; `from_text` when every value is text (a CSV row). Raises
        InvalidRequestError with the item's problems (field paths within the item)."""
        op = self._get(operation)
        adapter = self._one_item[operation]
        try:
            valid = adapter.validate_strings(value) if from_text else adapter.validate_python(value)
        except ValidationError as e:
            raise InvalidRequestError(problems_from(e)) from None
        return op.to_ref(valid)

    def fields_of_items(self, operation: str) -> tuple[str, ...] | None:
        """The fields of an operation's object items (a CSV manifest's columns); None when items are ids."""
        item_type = self._get(operation).item_type
        if isinstance(item_type, type) and issubclass(item_type, BaseModel):
            return tuple(field.alias or name for name, field in item_type.model_fields.items())
        return None

    def secret_fields_of_items(self, operation: str) -> frozenset[str]:
        return secret_fields(self._get(operation).item_type)

    def bind(self, *families: "BoundFamily[Any]") -> "BoundOperations":
        """The registry with each family's resources: what the chunk processor runs items with."""
        for family in families:
            for op in family.operations:
                if self._operations.get(op.name) is not op:
                    raise ValueError(f"operation {op.name} of family {family.name} is not registered")
        return BoundOperations(self, {op.name: family for family in families for op in family.operations})

    def _get(self, name: str) -> Operation[Any, Any]:
        try:
            return self._operations[name]
        except KeyError:
            known = ", ".join(self.names)
            raise InvalidRequestError(
                [FieldProblem("operation", f"unknown operation {name!r}; known: {known}")]
            ) from None


@dataclass(frozen=True)
class BoundFamily[ResourcesT]:
    """A family's operations with the resources they run with (Family.with_resources makes one)."""

    name: str
    operations: Sequence[Operation[Any, ResourcesT]]
    resources: ResourcesT

    def run(self, op: Operation[Any, ResourcesT], task: ItemTask) -> ItemOutcome:
        return op.apply(task, op.params_model.model_validate(task.params), self.resources)


@dataclass(frozen=True)
class BoundOperations:
    """The registry with the resources of the families bound to it: what the chunk processor runs."""

    registry: OperationRegistry
    # Each operation's family, by operation name.
    families: Mapping[str, BoundFamily[Any]]

    def run(self, operation: str, task: ItemTask) -> ItemOutcome:
        op = self.registry._get(operation)
        family = self.families.get(operation)
        if family is None:
            raise LookupError(f"operation {operation} cannot run here: its family has no resources bound")
        return family.run(op, task)
