"""The CLI's own logic, without a stack: reading --items, params, progress display, watching, exit codes."""

import io
import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest
from rich.console import Console

from batchops.cli.http import Api, ApiError, CliError, Reply, UnreachableError
from batchops.cli.inputs import INLINE_MAX_BYTES, INLINE_MAX_ITEMS, Shape, parse_params, read_items
from batchops.cli.render import Exit, exit_code
from batchops.cli.watch import LiveBar, PlainLines, Rate, display_for, watch


def _batch(status: str = "processing", processed: int = 0, failed: int = 0, total: int | None = 10) -> dict[str, Any]:
    return {
        "batchId": "b-1",
        "status": status,
        "totalItems": total,
        "processedItems": processed,
        "succeededItems": processed - failed,
        "failedItems": failed,
        "skippedItems": 0,
        "cancelledItems": 0,
    }


@pytest.mark.parametrize(
    ("name", "text", "shape", "entries"),
    [
        ("ids.txt", "a\n\n b \n", Shape.IDS, ["a", "b"]),
        ("-", '"a"\n"b"\n', Shape.JSONL, ["a", "b"]),
        ("items", '{"title": "x"}\n', Shape.JSONL, [{"title": "x"}]),
        ("items.NDJSON", "1\n", Shape.JSONL, [1]),
        ("items.csv", "title,price\nx,1\n", Shape.CSV, None),
    ],
)
def test_items_shape_comes_from_the_suffix_else_the_first_line(
    name: str, text: str, shape: Shape, entries: list[Any] | None
) -> None:
    items = read_items(text.encode(), name)
    assert (items.shape, items.entries) == (shape, entries)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\n \n", "--items f.txt: no items"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"a": 1}\n{"a": \n', "line 2 is not JSON"),
    ],
)
def test_unreadable_items_are_refused_naming_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(CliError, match=message):
        read_items(raw, "f.txt")


def test_few_small_items_go_inline_and_many_large_or_forced_ones_through_an_upload() -> None:
    few = read_items(b"a\nb\n", "ids.txt")
    many = read_items("".join(f"id-{i}\n" for i in range(INLINE_MAX_ITEMS + 1)).encode(), "ids.txt")
    large = read_items(json.dumps("x" * INLINE_MAX_BYTES).encode(), "big.jsonl")
    csv_rows = read_items(b"title\nx\n", "few.csv")

    assert few.inline(force_upload=False) == ["a", "b"]
    assert few.inline(force_upload=True) is None
    assert many.inline(force_upload=False) is None
    assert large.inline(force_upload=False) is None
    assert csv_rows.inline(force_upload=False) is None


def test_an_upload_holds_ids_as_json_lines_and_other_files_as_given() -> None:
    assert read_items(b"a\nb\n", "ids.txt").manifest() == ("jsonl", b'"a"\n"b"\n')
    assert read_items(b'{"t": 1}\n', "x.jsonl").manifest() == ("jsonl", b'{"t": 1}\n')
    assert read_items(b"t\n1\n", "x.csv").manifest() == ("csv", b"t\n1\n")


def test_params_read_json_values_and_each_param_overrides_params_json() -> None:
    params = parse_params(("newPrice=500", "reason=gone for good", "flag=true"), '{"newPrice": 1, "keep": [1]}')
    assert params == {"newPrice": 500, "reason": "gone for good", "flag": True, "keep": [1]}


@pytest.mark.parametrize(
    ("pairs", "params_json", "message"),
    [(("novalue",), None, "expected key=value"), ((), "[1]", "JSON object"), ((), "{", "not JSON")],
)
def test_malformed_params_are_refused(pairs: tuple[str, ...], params_json: str | None, message: str) -> None:
    with pytest.raises(CliError, match=message):
        parse_params(pairs, params_json)


@pytest.mark.parametrize(
    ("batch", "code"),
    [
        (_batch("completed", 10), Exit.OK),
        (_batch("completed", 10, failed=1), Exit.ITEMS_FAILED),
        (_batch("failed", 3, failed=3), Exit.BATCH_FAILED),
        (_batch("cancelled", 3), Exit.BATCH_FAILED),
        (_batch("processing", 3, failed=3), Exit.OK),
    ],
)
def test_exit_code_says_how_the_batch_ended(batch: dict[str, Any], code: Exit) -> None:
    assert exit_code(batch) == code


def test_plain_lines_come_at_most_once_a_second_and_always_for_the_final_state() -> None:
    out = io.StringIO()
    lines = PlainLines(out, Rate(started=0.0, processed_at_start=0))
    for now, processed in ((0.0, 0), (0.5, 2), (1.0, 4), (1.2, 5), (1.4, 5)):
        lines.show(_batch(processed=processed), now)
    lines.show(_batch("completed", 10), 1.5)

    printed = out.getvalue().splitlines()
    assert printed == [
        "b-1 processing 0/10 succeeded=0 failed=0",
        "b-1 processing 4/10 succeeded=4 failed=0 4.0 items/s ETA 2s",
        "b-1 completed 10/10 succeeded=10 failed=0 6.7 items/s",
    ]


def test_a_terminal_gets_a_live_bar_and_anything_else_plain_lines() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    piped = Console(file=io.StringIO(), force_terminal=False)
    rate = Rate(0.0, 0)

    bar = display_for(terminal, io.StringIO(), rate)
    bar.show(_batch(processed=5, failed=1), 1.0)
    bar.close()

    assert isinstance(bar, LiveBar)
    assert isinstance(display_for(piped, io.StringIO(), rate), PlainLines)
    drawn = terminal.file.getvalue()  # type: ignore[attr-defined]
    assert "5/10" in drawn and "4 ok" in drawn and "1 failed" in drawn and "5.0 items/s ETA 1s" in drawn


class _ScriptedApi(Api):
    """Answers GET /batches/{id} with the next batch of a script."""

    def __init__(self, batches: list[dict[str, Any]]) -> None:
        super().__init__("http://api.test", "token")
        self._batches = batches
        self.reads = 0

    def call(self, method: str, path: str, body: Any = None, **_: Mapping[str, Any] | None) -> Reply:
        assert (method, path) == ("GET", "/batches/b-1")
        batch = self._batches[min(self.reads, len(self._batches) - 1)]
        self.reads += 1
        return Reply(200, {}, batch)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_watch_polls_until_the_batch_is_final() -> None:
    api = _ScriptedApi([_batch(processed=0), _batch(processed=5), _batch("completed", 10)])
    clock, out = _Clock(), io.StringIO()

    final = watch(api, "b-1", lambda rate: PlainLines(out, rate), 60, clock, clock.sleep)

    assert final["status"] == "completed" and api.reads == 3
    assert out.getvalue().splitlines()[-1].startswith("b-1 completed 10/10")


def test_watch_gives_up_after_its_timeout_saying_the_batch_goes_on() -> None:
    api = _ScriptedApi([_batch(processed=1)])
    clock = _Clock()

    with pytest.raises(CliError, match=r"still processing after 5s; it goes on running"):
        watch(api, "b-1", lambda rate: PlainLines(io.StringIO(), rate), 5, clock, clock.sleep)
    assert clock.now == 5


def test_the_cli_imports_nothing_of_the_lambda_side() -> None:
    """`pip install .` brings only click and rich: the CLI must not need pydantic, boto3 or Powertools."""
    probe = "import sys, batchops.cli.main; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True).replace("'", '"'))  # noqa: S603
    assert not {"pydantic", "boto3", "botocore", "aws_lambda_powertools"} & set(loaded)


def test_api_refuses_a_url_that_is_not_http() -> None:
    with pytest.raises(CliError, match="--api must be an http"):
        Api("ftp://x", None)


class _FlakyApi(_ScriptedApi):
    """Fails some reads: each entry of `failures` is raised instead of answering that read."""

    def __init__(self, batches: list[dict[str, Any]], failures: Mapping[int, CliError]) -> None:
        super().__init__(batches)
        self._failures = failures

    def call(self, method: str, path: str, body: Any = None, **query: Mapping[str, Any] | None) -> Reply:
        failure = self._failures.get(self.reads)
        if failure is not None:
            self.reads += 1
            raise failure
        return super().call(method, path, body, **query)


def test_watch_reads_past_transient_errors_and_stops_at_a_lasting_or_permanent_one() -> None:
    clock = _Clock()
    batches = [_batch(processed=1), _batch(processed=2), _batch(processed=3), _batch("completed", 10)]
    passing = {1: UnreachableError("reset"), 2: ApiError(503, "unavailable", "later")}
    final = watch(
        _FlakyApi(batches, passing), "b-1", lambda rate: PlainLines(io.StringIO(), rate), 60, clock, clock.sleep
    )
    assert final["status"] == "completed"

    lasting = {n: ApiError(429, "throttled", "slow down") for n in range(1, 6)}
    with pytest.raises(ApiError, match="429"):
        watch(_FlakyApi(batches, lasting), "b-1", lambda rate: PlainLines(io.StringIO(), rate), 60, clock, clock.sleep)

    with pytest.raises(ApiError, match="404"):
        gone = {1: ApiError(404, "not_found", "gone")}
        watch(_FlakyApi(batches, gone), "b-1", lambda rate: PlainLines(io.StringIO(), rate), 60, clock, clock.sleep)
