"""The API edge: page tokens, timestamps and field paths as clients see them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from batchops.api.schemas import decode_token, encode_token
from batchops.domain.errors import InvalidRequestError
from batchops.domain.times import iso
from batchops.validation import field_path


def test_page_tokens_round_trip_and_forged_ones_are_rejected() -> None:
    assert decode_token(encode_token(41)) == 41
    assert encode_token(None) is None and decode_token(None) is None
    for forged in ("abc", encode_token(1_000_000), encode_token(-1), "eyJhZnRlciI6ICJ4In0"):
        with pytest.raises(InvalidRequestError):
            decode_token(forged)


def test_timestamps_are_utc_with_milliseconds_and_z() -> None:
    local = datetime(2026, 11, 24, 5, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert iso(local) == "2026-11-24T03:00:00.123Z"
    assert iso(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"


def test_field_paths_read_like_the_request() -> None:
    assert field_path(("params", "updates", "title")) == "params.updates.title"
    assert field_path(("items", 3)) == "items[3]"
    assert field_path(()) == "body"
