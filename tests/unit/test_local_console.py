"""What the offline stack prints of its functions' output, and the line per API request."""

import json

import pytest

from local.__main__ import stack_config
from local.console import Console, FunctionOutput

EMF = json.dumps({"_aws": {"CloudWatchMetrics": []}, "service": "batchops", "ChunkSize": [4.0]})
INFO = json.dumps({"level": "INFO", "message": "callback", "service": "batchops", "batch_id": "b1"})
WARNING = json.dumps(
    {"level": "WARNING", "message": "chunk failed after retries", "cold_start": False, "batch_id": "b1", "chunk": 2}
)
PRINTED = f"{EMF}\n{INFO}\n{WARNING}\nnot JSON: a print\n"


def test_all_of_it_goes_out_as_the_function_printed_it(capsys: pytest.CaptureFixture[str]) -> None:
    Console(FunctionOutput.ALL).function_printed("ProcessChunkFunction", PRINTED)
    assert capsys.readouterr().out == PRINTED


def test_otherwise_only_warnings_and_errors_as_plain_lines_and_what_is_not_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Console(FunctionOutput.WARNINGS).function_printed("ProcessChunkFunction", PRINTED)
    assert capsys.readouterr().out.splitlines() == [
        "ProcessChunkFunction WARNING chunk failed after retries batch_id=b1 chunk=2",
        "not JSON: a print",
    ]
    Console(FunctionOutput.WARNINGS).function_printed("ApiFunction", f"{EMF}\n{INFO}\n")
    assert capsys.readouterr().out == ""


def test_a_request_line_names_the_method_the_path_the_status_and_the_milliseconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Console().request("GET", "/batches?nextToken=abc", 200, 0.0414)
    assert capsys.readouterr().out == "GET /batches 200 41ms\n"


@pytest.mark.parametrize(("level", "shown"), [(None, FunctionOutput.WARNINGS), ("DEBUG", FunctionOutput.ALL)])
def test_make_run_shows_the_functions_json_only_with_log_level_debug(
    monkeypatch: pytest.MonkeyPatch, level: str | None, shown: FunctionOutput
) -> None:
    if level is None:
        monkeypatch.delenv("LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("LOG_LEVEL", level)
    config = stack_config()
    assert (config.function_output, config.activity) == (shown, True)
