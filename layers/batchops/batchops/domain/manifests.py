"""Manifests: a batch's items, one per line (JSON Lines or CSV), read the same way to check and to run them."""

import contextlib
import csv
import hashlib
import json
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from batchops.domain.errors import FieldProblem, InvalidRequestError
from batchops.domain.models import ItemRef, ItemSource, ManifestFormat
from batchops.domain.ports import ItemDecoder
from batchops.json_text import parse_json

MAX_ITEMS = 1_000_000
MAX_BYTES = 512 * 1024 * 1024
MAX_DETAILS = 100
# A line longer than this is no single item of any operation (the largest, a content body, is ~12 KB).
MAX_LINE_BYTES = 256 * 1024


class LineError(ValueError):
    """A line that is no item: its text, not its fields."""


def _is_blank(raw: bytes) -> bool:
    return not raw.strip()


def _text(raw: bytes) -> str:
    if len(raw) > MAX_LINE_BYTES:
        raise LineError(f"longer than {MAX_LINE_BYTES} bytes")
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise LineError("not UTF-8 text") from None


def _csv_cells(text: str) -> list[str]:
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as e:
        raise LineError(f"not a CSV row: {e}") from None
    return rows[0] if rows else []


def read_header(raw: bytes, fields: tuple[str, ...]) -> tuple[str, ...]:
    """A CSV manifest's first row: the names of the item fields, each known and given once."""
    columns = tuple(cell.strip() for cell in _csv_cells(_text(raw)))
    unknown = sorted(set(columns) - set(fields))
    if unknown or len(set(columns)) != len(columns) or not columns:
        raise LineError(f"the header row must name item fields, each once, from: {', '.join(fields)}")
    return columns


@dataclass(frozen=True)
class LineReader:
    """Turns one manifest line into an item of the batch's operation."""

    decoder: ItemDecoder
    operation: str
    source: ItemSource

    def item(self, raw: bytes) -> ItemRef:
        """Raises LineError or InvalidRequestError (the item's fields)."""
        text = _text(raw)
        if self.source.secrets_apart:
            # A line this service wrote from a checked item (public_line): read back as it was written.
            value = json.loads(text)
            return ItemRef(value["itemId"], value["input"])
        if self.source.format is ManifestFormat.JSONL:
            try:
                value = parse_json(text)
            except json.JSONDecodeError as e:
                raise LineError(f"not JSON: {e.msg}") from None
            return self.decoder.item_ref(self.operation, value)
        cells = _csv_cells(text)
        if self.source.columns is None:
            if len(cells) != 1:
                raise LineError(f"expected one column (the item's id), found {len(cells)}")
            return self.decoder.item_ref(self.operation, cells[0])
        if len(cells) != len(self.source.columns):
            raise LineError(f"expected {len(self.source.columns)} columns as in the header, found {len(cells)}")
        # An empty cell is a field not given.
        row = {name: cell for name, cell in zip(self.source.columns, cells, strict=True) if cell != ""}
        return self.decoder.item_ref(self.operation, row, from_text=True)

    def with_secrets(self, ref: ItemRef, secrets: dict[str, Any]) -> ItemRef:
        """An item read from a manifest with its secrets apart, whole again: checked as the client sent it."""
        assert ref.body is not None, "only object items have secret fields"
        return self.decoder.item_ref(self.operation, {**ref.body, **secrets})

    def items(self, lines: Iterable[bytes], first_index: int) -> Iterator[tuple[int, ItemRef]]:
        """The items of a run of lines (a chunk's byte range) with their indices; blank lines are no items."""
        index = first_index
        for raw in lines:
            if _is_blank(raw):
                continue
            yield index, self.item(raw)
            index += 1


@dataclass
class ManifestCheck:
    """Every line of a manifest checked, in one pass: problems (the first 100 told), and where items start."""

    reader: LineReader
    problems: list[FieldProblem] = field(default_factory=list)
    problem_count: int = 0
    starts: array = field(default_factory=lambda: array("Q"))  # type: ignore[type-arg]
    size: int = 0
    columns: tuple[str, ...] | None = None
    _seen: dict[bytes, int] = field(default_factory=dict)

    def run(self, lines: Iterable[bytes]) -> None:
        fields = self.reader.decoder.fields_of_items(self.reader.operation)
        expects_header = self.reader.source.format is ManifestFormat.CSV and fields is not None
        for line_number, raw in enumerate(lines, start=1):
            start, self.size = self.size, self.size + len(raw)
            if self.size > MAX_BYTES:
                self._problem("manifest", f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
                return
            if expects_header and line_number == 1:
                self._header(raw, fields or ())
                continue
            if _is_blank(raw):
                continue
            if len(self.starts) == MAX_ITEMS:
                self._problem("manifest", f"more than {MAX_ITEMS:,} items")
                return
            self.starts.append(start)
            self._check(line_number, raw)
        if not self.starts and not self.problems:
            self._problem("manifest", "holds no items")

    def _header(self, raw: bytes, fields: tuple[str, ...]) -> None:
        try:
            self.columns = read_header(raw, fields)
        except LineError as e:
            self._problem("line 1", str(e))
            # Without its header no row can be read: nothing more to tell.
            raise _UnreadableError from None
        self.reader = LineReader(
            self.reader.decoder, self.reader.operation, _with_columns(self.reader.source, self.columns)
        )

    def _check(self, line_number: int, raw: bytes) -> None:
        where = f"line {line_number}"
        try:
            ref = self.reader.item(raw)
        except LineError as e:
            self._problem(where, str(e))
            return
        except InvalidRequestError as e:
            for p in e.problems:
                self._problem(where, f"{p.field}: {p.message}" if p.field != "body" else p.message)
            return
        if ref.item_id is not None:
            # A digest, not the id: a million ids of 64 characters would take several times the memory.
            digest = hashlib.blake2b(ref.item_id.encode(), digest_size=16).digest()
            first = self._seen.setdefault(digest, line_number)
            if first != line_number:
                self._problem(where, f"duplicate of line {first} (item id {ref.item_id[:100]!r})")

    def _problem(self, where: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_DETAILS:
            self.problems.append(FieldProblem(where, message))


class _UnreadableError(Exception):
    """The header row is wrong: no further line can be read."""


def _with_columns(source: ItemSource, columns: tuple[str, ...]) -> ItemSource:
    return ItemSource(source.key, source.format, source.upload_id, columns)


def check_manifest(reader: LineReader, lines: Iterable[bytes]) -> ManifestCheck:
    check = ManifestCheck(reader)
    with contextlib.suppress(_UnreadableError):
        check.run(lines)
    return check


def public_line(ref: ItemRef, secrets: frozenset[str]) -> bytes:
    """An item's line in a manifest with its secrets apart: its id and its input without secret fields."""
    return _line({"itemId": ref.item_id, "input": public_body(ref.body, secrets) if ref.body is not None else None})


def public_body(body: dict[str, Any], secrets: frozenset[str]) -> dict[str, Any]:
    """An item's body as it may be recorded and shown: without its secret fields."""
    return {name: value for name, value in body.items() if name not in secrets}


def secret_values(ref: ItemRef, secrets: frozenset[str]) -> dict[str, Any]:
    """The secret fields of an item, for its chunk's sidecar."""
    return {name: value for name, value in (ref.body or {}).items() if name in secrets}


def _line(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def to_jsonl(values: Iterable[Any]) -> Iterator[bytes]:
    """Inline items as the manifest a client could have uploaded."""
    for value in values:
        yield _line(value)
