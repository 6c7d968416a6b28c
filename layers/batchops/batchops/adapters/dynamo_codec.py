"""Python values <-> DynamoDB attribute values, and the ClientError translation every table adapter uses."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from batchops.domain.errors import StoreUnavailableError

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
    code: str = error.response.get("Error", {}).get("Code", "")
    return code == "ConditionalCheckFailedException"


@contextmanager
def store_errors(action: str) -> Iterator[None]:
    """Any failure of the database not handled by the caller becomes StoreUnavailableError."""
    try:
        yield
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "Unknown")
        raise StoreUnavailableError(f"{action} failed: {code}") from e
    except BotoCoreError as e:
        raise StoreUnavailableError(f"{action} failed: {type(e).__name__}") from e
