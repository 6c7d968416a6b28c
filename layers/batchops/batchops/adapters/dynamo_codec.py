"""Python values <-> DynamoDB attribute values, for every table adapter."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from batchops.adapters.aws_errors import aws_errors, error_code

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    """DynamoDB knows neither floats nor datetimes: Decimal and ISO 8601 text stand in for them."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _python(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_python(v) for v in value]
    return value


def to_attr(value: Any) -> dict[str, Any]:
    return _serializer.serialize(_plain(value))  # type: ignore[no-any-return]


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Serialize a record, leaving out None so absent and null read back the same."""
    return {k: to_attr(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _python(_deserializer.deserialize(v)) for k, v in item.items()}


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def is_condition_failure(error: ClientError) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


def update_if(db: Any, table: str, action: str, **update: Any) -> bool:
    """A conditional UpdateItem: False when the condition did not hold; other failures as domain errors."""
    with aws_errors(action):
        try:
            db.update_item(TableName=table, **update)
        except ClientError as e:
            if is_condition_failure(e):
                return False
            raise
    return True


def set_attributes(attributes: Mapping[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """`SET #a0 = :v0, ...` for these attributes, with its names and values (placeholders, so that any
    attribute name works, reserved words too); conditions add their own under other names."""
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    values = {f":v{i}": to_attr(value) for i, value in enumerate(attributes.values())}
    return "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(names))), names, values
