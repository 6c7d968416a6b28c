"""`batchops`: the commands. Each one is an API call or two; what they print is in render, watching in watch."""

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from batchops.cli import render
from batchops.cli.http import Api, CliError, download, put_file
from batchops.cli.inputs import parse_params, read_items
from batchops.cli.render import Exit, exit_code
from batchops.cli.watch import Batch, display_for, watch
from batchops.domain.models import BatchStatus, ItemStatus

DEFAULT_API = "http://127.0.0.1:3000"
# Long enough for any batch a person waits for at a terminal; a script sets its own.
DEFAULT_WAIT_SECONDS = 24 * 3600


@dataclass
class Context:
    api: Api
    out: Console
    err: Console


def _context() -> Context:
    ctx: Context = click.get_current_context().find_object(Context)  # type: ignore[assignment]
    return ctx


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
wait_timeout_option = click.option(
    "--timeout", type=click.FloatRange(min=1), default=DEFAULT_WAIT_SECONDS, show_default=True,
    help="Stop watching after this many seconds (exit 3; the batch goes on).",
)  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--api", envvar="BATCHOPS_API_URL", default=DEFAULT_API, show_default=True, help="The HTTP API's URL.")
@click.option("--token", envvar="BATCHOPS_TOKEN", help="A bearer token (or BATCHOPS_TOKEN).")
@click.pass_context
def cli(ctx: click.Context, api: str, token: str | None) -> None:
    """Submit batches to batchops and follow them.

    Exit codes: 0 completed with no failed item (or nothing to wait for), 1 completed with failed items,
    2 batch failed or cancelled, 3 usage, authentication or HTTP errors."""
    ctx.obj = Context(Api(api, token), _console(stderr=False), _console(stderr=True))


def _console(stderr: bool) -> Console:
    # No guessing colours for numbers and dates in our text: only the styles we ask for.
    console = Console(stderr=stderr, highlight=False)
    # Rich would wrap at 80 columns what goes to a file or a pipe: lines stay whole there, for grep and logs.
    return console if console.is_terminal else Console(stderr=stderr, highlight=False, soft_wrap=True, width=200)


def _finish(c: Context, batch: Batch, as_json: bool, failures: dict[str, Any] | None) -> NoReturn:
    if as_json:
        render.print_json(c.out, {**batch, "failuresByCode": failures} if failures is not None else batch)
    else:
        render.summary(c.out, batch)
        if failures is not None:
            render.print_failures(c.out, failures)
    raise SystemExit(exit_code(batch))


def _wait_and_finish(c: Context, batch_id: str, as_json: bool, timeout: float) -> NoReturn:
    # Progress goes to stderr, so that stdout holds only the summary (or the JSON) a script reads.
    batch = watch(c.api, batch_id, lambda rate: display_for(c.err, sys.stderr, rate), timeout)
    failures = render.failures_by_code(c.api, batch) if batch["failedItems"] else None
    _finish(c, batch, as_json, failures)


@cli.command()
@click.argument("operation")
@click.option(
    "--items", "items_file", required=True, type=click.File("rb"), help="JSONL, CSV or one id per line; - reads stdin."
)
@click.option(
    "--param", "param_pairs", multiple=True, metavar="KEY=VALUE", help="A param; VALUE is JSON where it parses."
)
@click.option("--params", "params_json", metavar="JSON", help="All params as one JSON object.")
@click.option("--max-concurrency", type=click.IntRange(1, 1000), help="Items in flight at once (default 10).")
@click.option("--chunk-size", type=click.IntRange(1, 1000), help="Items per chunk invocation (default 100).")
@click.option("--stop-on-error", is_flag=True, help="Stop at the first failed item.")
@click.option("--failure-threshold", type=click.FloatRange(0, 100), metavar="P", help="Stop past P % failed items.")
@click.option("--schedule", metavar="ISO", help="Start at this time (ISO 8601 with a zone).")
@click.option("--callback-url", metavar="URL", help="Where to POST the final status.")
@click.option("--idempotency-key", metavar="K", help="Submitting again with this key returns the same batch.")
@click.option("--upload", "force_upload", is_flag=True, help="Send the items through an upload even if few.")
@click.option("--wait", is_flag=True, help="Show progress until the batch is final, then a summary.")
@wait_timeout_option
@json_option
def submit(
    operation: str, items_file: Any, param_pairs: tuple[str, ...], params_json: str | None,
    max_concurrency: int | None, chunk_size: int | None, stop_on_error: bool, failure_threshold: float | None,
    schedule: str | None, callback_url: str | None, idempotency_key: str | None, force_upload: bool,
    wait: bool, timeout: float, as_json: bool,
) -> None:  # fmt: skip
    """Submit OPERATION over the items of a file: small inputs inline, larger ones through an upload."""
    c = _context()
    items = read_items(items_file.read(), items_file.name)
    options = {
        "maxConcurrency": max_concurrency,
        "chunkSize": chunk_size,
        "continueOnError": False if stop_on_error else None,
        "failureThresholdPercent": failure_threshold,
        "scheduledFor": schedule,
        "callbackUrl": callback_url,
    }
    request: dict[str, Any] = {
        "operation": operation,
        "params": parse_params(param_pairs, params_json),
        "options": {k: v for k, v in options.items() if v is not None},
    }
    inline = items.inline(force_upload)
    if inline is not None:
        request["items"] = inline
    else:
        request["source"] = {"uploadId": _upload(c.api, *items.manifest())}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    batch = c.api.call("POST", "/batches", request, headers=headers).body
    _after_start(c, batch, "submitted", wait, as_json, timeout)


def _upload(api: Api, manifest_format: str, data: bytes) -> str:
    ticket = api.call("POST", "/uploads", {"format": manifest_format}).body
    if len(data) > ticket["maxBytes"]:
        raise CliError(f"--items is {len(data):,} bytes; an upload holds at most {ticket['maxBytes']:,}")
    put_file(ticket["url"], ticket["headers"], data)
    return str(ticket["uploadId"])


def _after_start(c: Context, batch: Batch, verb: str, wait: bool, as_json: bool, timeout: float) -> None:
    if wait:
        _wait_and_finish(c, batch["batchId"], as_json, timeout)
    if as_json:
        render.print_json(c.out, batch)
    else:
        total = batch.get("totalItems")
        count = f"{total} items" if total is not None else "items from an upload"
        c.out.print(f"{verb} batch {batch['batchId']} ({batch['operation']}, {count}): {batch['status']}")
        c.out.print(f"follow it: batchops status {batch['batchId']} --watch")


@cli.command()
@click.argument("batch_id")
@click.option("--watch", "follow", is_flag=True, help="Show progress until the batch is final.")
@wait_timeout_option
@json_option
def status(batch_id: str, follow: bool, timeout: float, as_json: bool) -> None:
    """A batch's status and counts; the exit code says how it ended."""
    c = _context()
    if follow:
        _wait_and_finish(c, batch_id, as_json, timeout)
    _finish(c, c.api.call("GET", f"/batches/{batch_id}").body, as_json, None)


@cli.command(name="ls")
@click.option("--status", "status_filter", type=click.Choice([s.value for s in BatchStatus]))
@click.option("--operation", help="Only batches of this operation.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@json_option
def list_batches(status_filter: str | None, operation: str | None, limit: int, as_json: bool) -> None:
    """Your batches, newest first."""
    c = _context()
    query = {"status": status_filter, "operation": operation, "limit": min(limit, 100)}
    batches = list(c.api.pages("/batches", "batches", query, limit))
    if as_json:
        render.print_json(c.out, batches)
    else:
        render.batches_table(c.out, batches)


@cli.command()
@click.argument("batch_id")
@click.option("--status", "status_filter", type=click.Choice([s.value for s in ItemStatus]))
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--output-field", metavar="NAME", help="Print only this field of each output, one per line.")
@json_option
def items(
    batch_id: str, status_filter: str | None, output_format: str, output_field: str | None, as_json: bool
) -> None:
    """A batch's items in index order, all pages."""
    c = _context()
    listing = c.api.pages(f"/batches/{batch_id}/items", "items", {"status": status_filter, "limit": 1000})
    if output_field is not None:
        # E.g. the ids a create made, ready to be the next batch's --items.
        for item in listing:
            value = (item.get("output") or {}).get(output_field)
            if value is not None:
                sys.stdout.write(f"{value}\n")
    elif as_json or output_format == "json":
        render.print_json(c.out, list(listing))
    elif output_format == "csv":
        for text in render.items_csv(listing):
            sys.stdout.write(text)
    else:
        render.items_table(c.out, listing)


@cli.command()
@click.argument("batch_id")
@json_option
def cancel(batch_id: str, as_json: bool) -> None:
    """Cancel a batch: no further item starts; it ends cancelled."""
    c = _context()
    batch = c.api.call("POST", f"/batches/{batch_id}/cancel").body
    if as_json:
        render.print_json(c.out, batch)
    else:
        c.out.print(f"cancelling batch {batch_id}: {batch['status']}")


@cli.command()
@click.argument("batch_id")
@click.option("--wait", is_flag=True, help="Show progress until the new batch is final, then a summary.")
@wait_timeout_option
@json_option
def retry(batch_id: str, wait: bool, timeout: float, as_json: bool) -> None:
    """A new batch of a final batch's failed, skipped and cancelled items."""
    c = _context()
    _after_start(c, c.api.call("POST", f"/batches/{batch_id}/retry").body, "retrying as", wait, as_json, timeout)


@cli.command()
@click.argument("batch_id")
@click.option("--format", "report_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--scope", type=click.Choice(["all", "failed"]), default="all", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
@json_option
def report(batch_id: str, report_format: str, scope: str, output: Path | None, as_json: bool) -> None:
    """A final batch's report (one row per item), from its presigned link."""
    c = _context()
    reply = c.api.call("GET", f"/batches/{batch_id}/report", query={"format": report_format, "scope": scope})
    url = reply.headers.get("Location") or reply.headers.get("location")
    if not url:
        raise CliError(f"the API answered HTTP {reply.status} without a report link")
    if output is None and not as_json:
        for piece in download(url):
            sys.stdout.buffer.write(piece)
        return
    written = 0
    if output is not None:
        with output.open("wb") as f:
            for piece in download(url):
                written += f.write(piece)
    if as_json:
        render.print_json(c.out, {"batchId": batch_id, "url": url, "path": str(output) if output else None})
    else:
        c.err.print(f"wrote {written:,} bytes to {output}")


@cli.command()
@click.option("--local", "from_local", is_flag=True, help="From the local stack's issuer (make run).")
@click.option("--sub", default="demo-user", show_default=True, help="The user the token names.")
@json_option
def token(from_local: bool, sub: str, as_json: bool) -> None:
    """Print a bearer token: export BATCHOPS_TOKEN=$(batchops token --local)."""
    c = _context()
    if not from_local:
        raise click.UsageError("only --local tokens are issued here; deployed, sign in to the stack's Cognito pool")
    issued = c.api.call("POST", "/_local/token", {"sub": sub}).body
    if as_json:
        render.print_json(c.out, issued)
    else:
        c.out.out(issued["token"], highlight=False)


def main(argv: list[str] | None = None) -> None:
    """The console script: usage errors exit 3 (click's own would be 2, which here means a failed batch)."""
    run(lambda: cli.main(args=argv, prog_name="batchops", standalone_mode=False))


def run(invoke: Callable[[], Any]) -> NoReturn:
    try:
        invoke()
    except click.ClickException as e:
        e.show()
        raise SystemExit(Exit.ERROR) from None
    except click.Abort:
        click.echo("aborted", err=True)
        raise SystemExit(Exit.ERROR) from None
    except CliError as e:
        click.echo(f"batchops: {e}", err=True)
        raise SystemExit(Exit.ERROR) from None
    raise SystemExit(Exit.OK)
