"""What the CLI prints for people: batch summaries, failures grouped by error code, tables and CSV."""

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from batchops.cli.http import Api
from batchops.domain.models import BatchStatus, ItemStatus

Batch = dict[str, Any]
# Grouping failures reads the failed items; past this many, the summary says it counted only these.
FAILURES_READ_AT_MOST = 10_000
ITEM_COLUMNS = ("index", "itemId", "status", "errorCode", "errorMessage", "message")


class Exit(IntEnum):
    """The process's exit code, for scripts."""

    OK = 0
    ITEMS_FAILED = 1
    BATCH_FAILED = 2
    ERROR = 3


def exit_code(batch: Batch) -> Exit:
    """0 completed without a failed item, 1 completed with some, 2 failed or cancelled; 0 while running."""
    status = batch["status"]
    if status == BatchStatus.COMPLETED:
        return Exit.ITEMS_FAILED if batch["failedItems"] else Exit.OK
    if status in (BatchStatus.FAILED, BatchStatus.CANCELLED):
        return Exit.BATCH_FAILED
    return Exit.OK


def print_json(console: Console, value: Any) -> None:
    console.out(json.dumps(value, indent=2), highlight=False)


def summary(console: Console, batch: Batch) -> None:
    total = batch.get("totalItems")
    console.print(f"[bold]{batch['batchId']}[/]  {batch['operation']}  [bold]{batch['status']}[/]")
    console.print(
        f"  items      {total if total is not None else '?'} total, {batch['processedItems']} processed: "
        f"{batch['succeededItems']} succeeded, {batch['failedItems']} failed, "
        f"{batch['skippedItems']} skipped, {batch['cancelledItems']} cancelled ({batch['progressPercent']:g} %)"
    )
    if batch.get("successRate") is not None:
        console.print(f"  success    {batch['successRate']:g} %")
    for label, key in (("created", "createdAt"), ("started", "startedAt"), ("completed", "completedAt")):
        if batch.get(key):
            console.print(f"  {label:<10} {batch[key]}")
    if batch.get("durationMs") is not None:
        console.print(f"  duration   {batch['durationMs'] / 1000:.1f} s")
    if batch.get("error"):
        error = batch["error"]
        console.print(f"  [red]error      {escape(error['code'])}: {escape(error['message'])}[/]")
        for detail in (error.get("details") or [])[:10]:
            console.print(f"               {escape(detail['field'])}: {escape(detail['message'])}")
    if batch.get("retriedBy"):
        console.print(f"  retried by {batch['retriedBy']}")


def failures_by_code(api: Api, batch: Batch) -> dict[str, Any]:
    """{"counted", "complete", "codes": [{"code", "count", "example": {...}}]}, most frequent first."""
    counts: Counter[str] = Counter()
    examples: dict[str, dict[str, Any]] = {}
    counted = 0
    query = {"status": ItemStatus.FAILED.value, "limit": 1000}
    for item in api.pages(f"/batches/{batch['batchId']}/items", "items", query, FAILURES_READ_AT_MOST):
        code = (item.get("error") or {}).get("code", "unknown")
        counts[code] += 1
        counted += 1
        examples.setdefault(code, {"itemId": item.get("itemId"), "message": (item.get("error") or {}).get("message")})
    codes = [{"code": c, "count": n, "example": examples[c]} for c, n in counts.most_common()]
    return {"counted": counted, "complete": counted == batch["failedItems"], "codes": codes}


def print_failures(console: Console, grouped: dict[str, Any]) -> None:
    if not grouped["codes"]:
        return
    note = "" if grouped["complete"] else f" (the first {grouped['counted']:,} read)"
    console.print(f"  failures by error code{note}:")
    for entry in grouped["codes"]:
        example = entry["example"]
        text = f"    {entry['code']:<24} {entry['count']:>7}   e.g. {example['itemId']}: {example['message']}"
        console.print(escape(text))


def batches_table(console: Console, batches: Iterable[Batch]) -> None:
    table = Table("batchId", "operation", "status", "progress", "succeeded", "failed", "createdAt")
    for b in batches:
        total = b.get("totalItems")
        progress = f"{b['processedItems']}/{total if total is not None else '?'}"
        table.add_row(
            b["batchId"], b["operation"], b["status"], progress, str(b["succeededItems"]), str(b["failedItems"]),
            b["createdAt"],
        )  # fmt: skip
    console.print(table)


def item_row(item: dict[str, Any]) -> dict[str, Any]:
    error = item.get("error") or {}
    return {
        "index": item["index"],
        "itemId": item.get("itemId") or "",
        "status": item["status"],
        "errorCode": error.get("code", ""),
        "errorMessage": error.get("message", ""),
        "message": item.get("message") or "",
    }


def items_table(console: Console, items: Iterable[dict[str, Any]]) -> None:
    table = Table(*ITEM_COLUMNS)
    for item in items:
        table.add_row(*(str(v) for v in item_row(item).values()))
    console.print(table)


def items_csv(items: Iterable[dict[str, Any]]) -> Iterable[str]:
    """CSV text, a row at a time, so a large batch's items stream out."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ITEM_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(item_row(item))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
