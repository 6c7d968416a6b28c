"""Completion reports: a finished batch's per-item results as CSV and JSON Lines, rendered as a stream."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

from batchops.domain.models import BatchItem, ItemStatus

COLUMNS = ("index", "itemId", "status", "errorCode", "message", "warnings", "durationMs", "output")
# Rows rendered per piece: the report's bytes are produced (and uploaded) a piece at a time.
_ROWS_PER_PIECE = 2000


class ReportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class ReportScope(StrEnum):
    ALL = "all"
    FAILED = "failed"


ReportKey = tuple[ReportScope, ReportFormat]
REPORTS: tuple[ReportKey, ...] = tuple((scope, fmt) for scope in ReportScope for fmt in ReportFormat)


def _row(item: BatchItem) -> dict[str, Any]:
    outcome = item.outcome
    return {
        "index": item.index,
        "itemId": item.ref.item_id,
        "status": item.status.value,
        "errorCode": outcome.error.code if outcome and outcome.error else None,
        "message": outcome.message if outcome else None,
        "warnings": [w.code for w in outcome.warnings] if outcome else [],
        "durationMs": item.duration_ms,
        "output": outcome.output if outcome else None,
    }


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n" for row in rows).encode()


def _csv(rows: list[dict[str, Any]], header: bool) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    for row in rows:
        output = json.dumps(row["output"], separators=(",", ":")) if row["output"] is not None else None
        writer.writerow({**row, "warnings": ";".join(row["warnings"]), "output": output})
    return out.getvalue().encode()


def _pieces(items: Iterable[BatchItem]) -> Iterator[list[BatchItem]]:
    piece: list[BatchItem] = []
    for item in items:
        piece.append(item)
        if len(piece) == _ROWS_PER_PIECE:
            yield piece
            piece = []
    yield piece


def render_all(items: Iterable[BatchItem]) -> Iterator[dict[ReportKey, bytes]]:
    """Every report a client may ask for, rendered in one pass over the items: pieces to append to each."""
    first = True
    for piece in _pieces(items):
        rows = [_row(i) for i in piece]
        failed = [row for row, item in zip(rows, piece, strict=True) if item.status is ItemStatus.FAILED]
        yield {
            (ReportScope.ALL, ReportFormat.CSV): _csv(rows, header=first),
            (ReportScope.ALL, ReportFormat.JSONL): _jsonl(rows),
            (ReportScope.FAILED, ReportFormat.CSV): _csv(failed, header=first),
            (ReportScope.FAILED, ReportFormat.JSONL): _jsonl(failed),
        }
        first = False
