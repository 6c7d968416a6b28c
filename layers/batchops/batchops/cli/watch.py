"""Watching a batch until it is final: a live bar on a terminal, plain lines (at most one a second) elsewhere."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from batchops.cli.http import Api, CliError
from batchops.domain.models import FINAL_STATUSES

Batch = dict[str, Any]
# The background documents' clients poll every 2 seconds; a person watching a bar likes it a little livelier.
POLL_SECONDS = 1.0
# A long watch outlives a dropped connection or a throttled read: so many in a row (1+2+4+8 s) end it.
TRANSIENT_ERRORS_IN_A_ROW = 5


@dataclass
class Rate:
    """Items per second since watching began, and the time left at that pace."""

    started: float
    processed_at_start: int

    def per_second(self, processed: int, now: float) -> float | None:
        elapsed = now - self.started
        done = processed - self.processed_at_start
        return done / elapsed if elapsed > 0 and done > 0 else None

    def eta_seconds(self, batch: Batch, now: float) -> float | None:
        rate = self.per_second(batch["processedItems"], now)
        total: int | None = batch.get("totalItems")
        if rate is None or total is None:
            return None
        left: int = total - batch["processedItems"] - batch["skippedItems"] - batch["cancelledItems"]
        return max(0.0, left / rate)


def pace(batch: Batch, rate: Rate, now: float) -> str:
    """ "12.5 items/s ETA 40s", or less while there is nothing to tell yet."""
    per_second = rate.per_second(batch["processedItems"], now)
    if per_second is None:
        return ""
    eta = rate.eta_seconds(batch, now)
    final = batch["status"] in FINAL_STATUSES
    return f"{per_second:.1f} items/s" + (f" ETA {eta:.0f}s" if eta is not None and not final else "")


def describe(batch: Batch, rate: Rate, now: float) -> str:
    total = batch.get("totalItems")
    of_total = f"{batch['processedItems']}/{total if total is not None else '?'}"
    counts = f"succeeded={batch['succeededItems']} failed={batch['failedItems']}"
    return " ".join(
        part for part in (batch["batchId"], batch["status"], of_total, counts, pace(batch, rate, now)) if part
    )


class Display(Protocol):
    def show(self, batch: Batch, now: float) -> None: ...

    def close(self) -> None: ...


class PlainLines:
    """For logs and pipes: a line when something changed, at most one a second, and always the last one."""

    def __init__(self, out: TextIO, rate: Rate) -> None:
        self._out, self._rate = out, rate
        self._last_line, self._last_at = "", float("-inf")

    def show(self, batch: Batch, now: float) -> None:
        line = describe(batch, self._rate, now)
        final = batch["status"] in FINAL_STATUSES
        if line != self._last_line and (final or now - self._last_at >= 1.0):
            print(line, file=self._out, flush=True)
            self._last_line, self._last_at = line, now

    def close(self) -> None:
        pass


class LiveBar:
    """For a person at a terminal: rich's bar with processed/total, succeeded, failed, items/s and ETA."""

    def __init__(self, console: Console, rate: Rate) -> None:
        self._rate = rate
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.fields[total_text]}"),
            TextColumn("[green]{task.fields[succeeded]} ok[/] [red]{task.fields[failed]} failed[/]"),
            TextColumn("{task.fields[speed]}"),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._progress.start()

    def show(self, batch: Batch, now: float) -> None:
        total = batch.get("totalItems")
        fields = {
            "total_text": total if total is not None else "?",
            "succeeded": batch["succeededItems"],
            "failed": batch["failedItems"],
            "speed": pace(batch, self._rate, now),
        }
        description = f"{batch['batchId'][:8]} {batch['status']}"
        if self._task is None:
            self._task = self._progress.add_task(description, total=total, **fields)
        self._progress.update(
            self._task, description=description, total=total, completed=batch["processedItems"], **fields
        )

    def close(self) -> None:
        self._progress.stop()


def display_for(console: Console, plain_out: TextIO, rate: Rate) -> Display:
    return LiveBar(console, rate) if console.is_terminal else PlainLines(plain_out, rate)


def watch(
    api: Api,
    batch_id: str,
    make_display: Callable[[Rate], Display],
    timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Batch:
    """Poll the batch until it is final or `timeout_seconds` pass (then CliError: it goes on running). A
    transient error (network, throttling, 5xx) is read past, unless it lasts TRANSIENT_ERRORS_IN_A_ROW polls."""
    batch: Batch = api.call("GET", f"/batches/{batch_id}").body
    started = clock()
    display = make_display(Rate(started, batch["processedItems"]))
    errors_in_a_row = 0
    try:
        while True:
            display.show(batch, clock())
            if batch["status"] in FINAL_STATUSES:
                return batch
            if clock() - started >= timeout_seconds:
                raise CliError(
                    f"batch {batch_id} is still {batch['status']} after {timeout_seconds:g}s; it goes on running "
                    f"(batchops status {batch_id} --watch)"
                )
            sleep(POLL_SECONDS * 2**errors_in_a_row)
            try:
                batch = api.call("GET", f"/batches/{batch_id}").body
                errors_in_a_row = 0
            except CliError as e:
                errors_in_a_row += 1
                if not e.transient or errors_in_a_row >= TRANSIENT_ERRORS_IN_A_ROW:
                    raise
    finally:
        display.close()
