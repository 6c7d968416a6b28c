"""Completion reports: a finished batch's per-item results as CSV and JSON Lines."""

import csv
import io
import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from batchops.domain.models import BatchItem, ItemStatus

COLUMNS = ("index", "itemId", "status", "errorCode", "message", "warnings", "durationMs")


class ReportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class ReportScope(StrEnum):
    ALL = "all"
    FAILED = "failed"


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
    }


def render(items: Iterable[BatchItem], scope: ReportScope, fmt: ReportFormat) -> bytes:
    rows = [_row(i) for i in items if scope is ReportScope.ALL or i.status is ItemStatus.FAILED]
    if fmt is ReportFormat.JSONL:
        return "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows).encode()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "warnings": ";".join(row["warnings"])})
    return out.getvalue().encode()


def all_reports(items: list[BatchItem]) -> dict[tuple[ReportScope, ReportFormat], bytes]:
    """Every report a client may ask for, rendered once when the batch is final."""
    return {(scope, fmt): render(items, scope, fmt) for scope in ReportScope for fmt in ReportFormat}
