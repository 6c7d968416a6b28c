"""Reading `--items`: JSON Lines, CSV or one id per line, and choosing between an inline request and an upload."""

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import Any

from batchops.cli.http import CliError

# Inline items are checked while the client waits and answered with a 400 naming the entry: the better
# experience while a request stays small. Past these, the items go through an upload (up to 1,000,000).
INLINE_MAX_ITEMS = 1_000
INLINE_MAX_BYTES = 1 << 20


class Shape(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    IDS = "ids"


@dataclass(frozen=True)
class Items:
    shape: Shape
    raw: bytes
    # Parsed entries (JSON Lines, ids); None for CSV, which only the service reads (one reader, its rules).
    entries: list[Any] | None

    def inline(self, force_upload: bool) -> list[Any] | None:
        """The entries to send in the request, or None when they go through an upload."""
        if force_upload or self.entries is None:
            return None
        if len(self.entries) > INLINE_MAX_ITEMS or len(self.raw) > INLINE_MAX_BYTES:
            return None
        return self.entries

    def manifest(self) -> tuple[str, bytes]:
        """(format, bytes) of the upload: CSV as given, JSON Lines as given, ids one JSON string per line."""
        if self.shape is Shape.CSV:
            return "csv", self.raw
        if self.shape is Shape.JSONL:
            return "jsonl", self.raw
        assert self.entries is not None
        return "jsonl", "".join(json.dumps(entry) + "\n" for entry in self.entries).encode()


def read_items(raw: bytes, name: str) -> Items:
    """`name` is the file's name (or "-"): .jsonl/.ndjson and .csv say what it holds; anything else is
    JSON Lines when its first line starts like a JSON string or object, else one id per line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CliError(f"--items {name}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise CliError(f"--items {name}: no items")
    suffix = PurePath(name).suffix.lower()
    if suffix == ".csv":
        return Items(Shape.CSV, raw, None)
    if suffix in (".jsonl", ".ndjson") or lines[0][1].startswith(("{", '"')):
        return Items(Shape.JSONL, raw, [_json_line(name, n, line) for n, line in lines])
    return Items(Shape.IDS, raw, [line for _, line in lines])


def _json_line(name: str, number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as e:
        raise CliError(f"--items {name}: line {number} is not JSON ({e})") from None


def parse_params(pairs: tuple[str, ...], params_json: str | None) -> dict[str, Any]:
    """--params JSON, then each --param key=value over it; a value is JSON where it parses (500, true,
    {"a": 1}), else the text itself."""
    params: dict[str, Any] = {}
    if params_json is not None:
        try:
            loaded = json.loads(params_json)
        except ValueError as e:
            raise CliError(f"--params is not JSON: {e}") from None
        if not isinstance(loaded, dict):
            raise CliError("--params must be a JSON object")
        params.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--param {pair!r}: expected key=value")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params
