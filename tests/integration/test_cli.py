"""The `batchops` console script, run as a person's shell would run it, against the offline stack."""

import csv
import io
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local.stack import OfflineStack
from tests.integration.client import Api
from tests.integration.conftest import SlowContents
from tests.integration.contract_server import ContractServer

PRICE = "content.update-price"
# The script pip installed next to this interpreter (`make` installs the project into the venv).
SCRIPT = Path(sys.executable).with_name("batchops")


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def batchops(api: Api, *args: str, stdin: str | None = None, token: str | None = None) -> Run:
    env = {**os.environ, "BATCHOPS_API_URL": api.base_url, "BATCHOPS_TOKEN": token or api.token or ""}
    done = subprocess.run(  # noqa: S603 - our own console script
        [str(SCRIPT), *args], input=stdin, capture_output=True, text=True, env=env, timeout=180, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr)


def write(tmp_path: Path, name: str, lines: list[str]) -> str:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


def test_the_console_script_is_installed_next_to_the_interpreter() -> None:
    assert SCRIPT.is_file(), "make installs the project (pip install -e .) into the venv"


def test_local_token_names_its_user_and_works_for_the_api(stack: OfflineStack, anonymous: Api) -> None:
    sub = f"cli-{uuid.uuid4().hex[:6]}"
    issued = batchops(anonymous, "token", "--local", "--sub", sub)
    assert issued.code == 0, issued.err
    token = issued.out.strip()

    listed = batchops(anonymous, "ls", "--json", token=token)

    assert (listed.code, listed.json()) == (0, [])
    assert Api(stack.api_url, token).request("GET", "/batches").status == 200


def test_submit_wait_with_failed_items_exits_1_with_failures_grouped_and_plain_progress(
    user: Api, tmp_path: Path
) -> None:
    ids = user.create_contents(3, price=1)
    items = write(tmp_path, "ids.txt", [ids[0], "gone-1", ids[1], "gone-2", ids[2]])

    run = batchops(user, "submit", PRICE, "--items", items, "--param", "newPrice=9", "--wait")

    assert run.code == 1, run.err
    assert "completed" in run.out
    assert "3 succeeded, 2 failed" in run.out
    assert "not_found" in run.out and "2   e.g. gone-1: Content not found" in run.out
    # No terminal: progress as plain lines, the last one final with its counts.
    progress = run.err.strip().splitlines()
    assert progress[-1].split()[1:5] == ["completed", "5/5", "succeeded=3", "failed=2"]
    assert all("\x1b" not in line for line in progress)
    assert [user.request("GET", f"/content/{i}").body["price"] for i in ids] == [9, 9, 9]


def test_submit_wait_json_of_a_clean_batch_exits_0_and_takes_items_from_stdin(user: Api) -> None:
    lines = [json.dumps({"title": f"New {i}", "contentType": "article", "price": i + 1}) for i in range(4)]

    run = batchops(user, "submit", "content.create", "--items", "-", "--wait", "--json", stdin="\n".join(lines))

    assert run.code == 0, run.err
    batch = run.json()
    assert (batch["status"], batch["succeededItems"], batch["source"]["uploadId"]) == ("completed", 4, None)
    assert "failuresByCode" not in batch
    created = batchops(user, "items", batch["batchId"], "--output-field", "contentId").out.split()
    assert [user.request("GET", f"/content/{i}").body["price"] for i in created] == [1, 2, 3, 4]


def test_submit_through_an_upload_csv_or_forced_runs_like_inline(user: Api, tmp_path: Path) -> None:
    ids = user.create_contents(2, price=1)
    as_csv = write(tmp_path, "items.csv", ["title,contentType,price", "From CSV,article,5"])
    as_jsonl = write(tmp_path, "ids.jsonl", [json.dumps(i) for i in ids])

    created = batchops(user, "submit", "content.create", "--items", as_csv, "--wait", "--json")
    repriced = batchops(user, "submit", PRICE, "--items", as_jsonl, "--upload", "--params", '{"newPrice": 6}', "--wait")

    assert created.code == 0, created.err
    assert created.json()["source"]["uploadId"] and created.json()["succeededItems"] == 1
    assert repriced.code == 0, repriced.err
    assert [user.request("GET", f"/content/{i}").body["price"] for i in ids] == [6, 6]


def test_submit_options_reach_the_batch_and_an_idempotency_key_returns_the_same_batch(
    user: Api, tmp_path: Path, contract: ContractServer
) -> None:
    items = write(tmp_path, "ids.txt", ["a", "b"])
    args = ["submit", PRICE, "--items", items, "--param", "newPrice=1", "--max-concurrency", "3", "--chunk-size", "2"]
    args += ["--stop-on-error", "--failure-threshold", "50", "--callback-url", f"{contract.url}/hooks/cli"]
    args += ["--idempotency-key", f"k-{uuid.uuid4().hex}", "--json"]

    first, again = batchops(user, *args), batchops(user, *args)

    assert (first.code, again.code) == (0, 0), first.err + again.err
    assert first.json()["batchId"] == again.json()["batchId"]
    assert first.json()["options"] == {
        "maxConcurrency": 3,
        "chunkSize": 2,
        "continueOnError": False,
        "failureThresholdPercent": 50.0,
        "scheduledFor": None,
        "callbackUrl": f"{contract.url}/hooks/cli",
    }


def test_scheduled_then_cancelled_batch_watches_to_exit_2(user: Api, tmp_path: Path) -> None:
    items = write(tmp_path, "ids.txt", ["a"])
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    submitted = batchops(
        user, "submit", PRICE, "--items", items, "--param", "newPrice=1", "--schedule", tomorrow, "--json"
    )
    assert submitted.code == 0, submitted.err
    batch_id = submitted.json()["batchId"]
    assert submitted.json()["status"] == "scheduled"

    cancelled = batchops(user, "cancel", batch_id)
    watched = batchops(user, "status", batch_id, "--watch")

    assert cancelled.code == 0 and "cancelling batch" in cancelled.out
    assert watched.code == 2
    assert "cancelled" in watched.out


def test_cancel_of_a_running_batch_ends_it_cancelled_and_its_status_exits_2(
    user: Api, tmp_path: Path, slow_contents: SlowContents
) -> None:
    items = write(tmp_path, "ids.txt", slow_contents(20, 0.3))
    run = batchops(user, "submit", PRICE, "--items", items, "--param", "newPrice=2", "--max-concurrency", "1", "--json")
    batch_id = run.json()["batchId"]
    user.wait_for(batch_id, lambda b: b["processedItems"] > 0)

    cancelled = batchops(user, "cancel", batch_id, "--json")
    final = user.wait_final(batch_id)
    status = batchops(user, "status", batch_id, "--json")

    assert cancelled.code == 0 and cancelled.json()["batchId"] == batch_id
    assert final["status"] == "cancelled"
    assert (status.code, status.json()["status"]) == (2, "cancelled")


def test_a_batch_failed_on_its_manifest_exits_2_naming_the_lines(user: Api, tmp_path: Path) -> None:
    items = write(tmp_path, "bad.csv", ["title,contentType,price", "Fine,article,1", "No price,article,-5"])

    run = batchops(user, "submit", "content.create", "--items", items, "--wait")

    assert run.code == 2, run.err
    assert "failed" in run.out and "invalid_manifest" in run.out
    assert "line 3" in run.out


def test_api_usage_and_auth_errors_exit_3_naming_the_problem(user: Api, tmp_path: Path) -> None:
    items = write(tmp_path, "ids.txt", ["a"])

    unknown = batchops(user, "submit", "content.nope", "--items", items)
    bad_option = batchops(user, "submit", PRICE, "--items", items, "--max-concurrency", "0")
    missing_items = batchops(user, "submit", PRICE)
    bad_token = batchops(user, "ls", token="not-a-token")
    missing_batch = batchops(user, "status", "no-such-batch")
    no_local_flag = batchops(user, "token")

    assert unknown.code == 3 and "HTTP 400" in unknown.err and "content.nope" in unknown.err
    assert bad_option.code == 3 and "--max-concurrency" in bad_option.err
    assert missing_items.code == 3 and "--items" in missing_items.err
    assert bad_token.code == 3 and "HTTP 401" in bad_token.err
    assert missing_batch.code == 3 and "HTTP 404 not_found" in missing_batch.err
    assert no_local_flag.code == 3 and "--local" in no_local_flag.err
    assert user.request("GET", "/batches").body["batches"] == []


def test_ls_filters_by_status_and_operation_and_limits(user: Api, tmp_path: Path) -> None:
    items = write(tmp_path, "ids.txt", ["a"])
    failed = batchops(user, "submit", PRICE, "--items", items, "--param", "newPrice=1", "--wait", "--json").json()
    user.wait_final(user.submit("content.remove", ["b"], {"reason": "x"})["batchId"])

    everything = batchops(user, "ls", "--json").json()
    of_price = batchops(user, "ls", "--operation", PRICE, "--json").json()
    one = batchops(user, "ls", "--limit", "1", "--json").json()
    running = batchops(user, "ls", "--status", "processing", "--json").json()
    table = batchops(user, "ls")

    assert len(everything) == 2
    assert [b["batchId"] for b in of_price] == [failed["batchId"]]
    assert len(one) == 1 and running == []
    assert failed["batchId"] in table.out and PRICE in table.out


def test_items_as_table_json_and_csv_filtered_by_status(user: Api, tmp_path: Path) -> None:
    ids = user.create_contents(2)
    items = write(tmp_path, "ids.txt", [ids[0], "gone", ids[1]])
    batch_id = batchops(user, "submit", PRICE, "--items", items, "--param", "newPrice=3", "--wait", "--json").json()
    batch_id = batch_id["batchId"]

    table = batchops(user, "items", batch_id)
    as_json = batchops(user, "items", batch_id, "--format", "json").json()
    failed_csv = batchops(user, "items", batch_id, "--status", "failed", "--format", "csv").out

    assert table.code == 0 and "gone" in table.out and "not_found" in table.out
    assert [i["itemId"] for i in as_json] == [ids[0], "gone", ids[1]]
    assert list(csv.DictReader(io.StringIO(failed_csv))) == [
        {"index": "1", "itemId": "gone", "status": "failed", "errorCode": "not_found",
         "errorMessage": "Content not found", "message": "Content not found"},
    ]  # fmt: skip


def test_retry_wait_runs_the_failed_items_again(user: Api, tmp_path: Path) -> None:
    items = write(tmp_path, "ids.txt", ["gone-a", "gone-b"])
    first = batchops(user, "submit", PRICE, "--items", items, "--param", "newPrice=3", "--wait", "--json").json()

    retried = batchops(user, "retry", first["batchId"], "--wait", "--json")

    assert retried.code == 1, retried.err
    again = retried.json()
    assert again["parentBatchId"] == first["batchId"] and again["totalItems"] == 2
    assert again["failuresByCode"]["codes"][0]["code"] == "not_found"
    assert again["failuresByCode"]["codes"][0]["count"] == 2


def test_report_downloads_csv_and_jsonl_to_stdout_or_a_file(user: Api, tmp_path: Path) -> None:
    ids = user.create_contents(1)
    items = write(tmp_path, "ids.txt", [ids[0], "gone"])
    batch_id = batchops(user, "submit", PRICE, "--items", items, "--param", "newPrice=3", "--wait", "--json").json()
    batch_id = batch_id["batchId"]
    target = tmp_path / "failed.jsonl"

    all_csv = batchops(user, "report", batch_id)
    to_file = batchops(user, "report", batch_id, "--format", "jsonl", "--scope", "failed", "-o", str(target))

    assert [row["itemId"] for row in csv.DictReader(io.StringIO(all_csv.out))] == [ids[0], "gone"]
    assert to_file.code == 0 and str(target) in to_file.err
    assert [json.loads(line)["itemId"] for line in target.read_text().splitlines()] == ["gone"]
