"""What a batch costs on AWS, from what it really did offline: `make cost`.

Runs one content.update-price batch of N items (default 10,000; no downstream contract service) through the
offline stack and counts its state transitions (parent history; one per child workflow of the Distributed
Map, whose own states are EXPRESS requests and duration), Lambda invocations and durations (the memory
from template.yaml), DynamoDB read and write units (from each request and the size of the items it reads
or writes, as DynamoDB bills them), S3 and EventBridge requests. Each line x the us-east-1 list price.
Setting the batch up (creating the content items) is not counted.

Offline durations are moto's, slower than AWS's: the Lambda and EXPRESS duration lines are upper bounds.
    python -m bench.cost [items]"""

import io
import json
import math
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from moto.backends import get_backend
from moto.dynamodb.models.dynamo_type import DynamoType

from local.authorization import signer
from local.deploy import ACCOUNT_ID
from local.stack import OfflineStack, StackConfig
from tests.integration.client import Api

# us-east-1 list prices, as published on 2026-11-26 (on-demand DynamoDB after its November 2024 price cut).
PRICES = {
    "standard transition": 25.0 / 1e6,
    "express request": 1.0 / 1e6,
    "express GB-second": 0.00001667,
    "lambda request": 0.20 / 1e6,
    "lambda GB-second": 0.0000166667,
    "dynamodb write unit": 0.625 / 1e6,
    "dynamodb read unit": 0.125 / 1e6,
    "s3 put/copy/list": 0.005 / 1e3,
    "s3 get": 0.0004 / 1e3,
    "eventbridge event": 1.0 / 1e6,
}
EXPRESS_MEMORY_GB = 64 / 1024  # an EXPRESS execution is billed at least 64 MB; ours carry a few hundred bytes
CHILD_OVERHEAD_MS = 50  # an EXPRESS child's own time besides its task (state entries, the Lambda call)


@dataclass
class Meter:
    """Counts what the local AWS endpoint serves, as AWS bills it."""

    read_units: float = 0.0
    write_units: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    # Requests of these signers are not the batch's (the client polling GET /batches/{batchId}).
    ignored: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def wrap(self, app: WSGIApplication) -> WSGIApplication:
        def metered(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            who = signer(environ)
            if who is not None and who.access_key in self.ignored:
                return app(environ, start_response)
            service = who.service if who else "?"
            if service != "dynamodb":
                self._count(f"{service} {environ['REQUEST_METHOD']}")
                return app(environ, start_response)
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            reply = list(app(environ, start_response))
            operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).rsplit(".", 1)[-1]
            self._count(f"dynamodb {operation}")
            self._units(operation, json.loads(body or b"{}"), json.loads(b"".join(reply) or b"{}"))
            return reply

        return metered

    def _count(self, what: str) -> None:
        with self._lock:
            self.requests[what] += 1

    def _units(self, operation: str, request: dict[str, Any], reply: dict[str, Any]) -> None:
        reads = writes = 0.0
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            writes = _write_units(request["TableName"], request.get("Item") or request["Key"])
        elif operation == "BatchWriteItem":
            for parts in request["RequestItems"].values():
                for part in parts:
                    put = part.get("PutRequest", {}).get("Item")
                    writes += _kb(_size(put)) if put else 1
        elif operation == "TransactWriteItems":
            for part in request["TransactItems"]:
                for kind, op in part.items():
                    # Transactions cost twice: a prepare and a commit.
                    units = _kb(_size(op["Item"])) if kind == "Put" else _write_units(op["TableName"], op["Key"])
                    writes += 2 * units
        elif operation == "GetItem":
            found = reply.get("Item")
            reads = _read_units(_stored_size(request["TableName"], request["Key"]) if found else 0, request)
        elif operation in ("Query", "Scan"):
            total = sum(_stored_size(request["TableName"], _keys(item)) for item in reply.get("Items", []))
            reads = _read_units(total, request)
        elif operation == "BatchGetItem":
            for table, items in reply.get("Responses", {}).items():
                for item in items:
                    reads += _read_units(_stored_size(table, _keys(item)), request["RequestItems"][table])
        with self._lock:
            self.read_units += reads
            self.write_units += writes


def _size(item: dict[str, Any] | None) -> int:
    """An item's size as DynamoDB counts it: names and values (close enough from the wire form)."""
    return len(json.dumps(item or {}, separators=(",", ":")))


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def _keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k in ("pk", "sk", "contentId", "id")}


def _table(name: str) -> Any:
    return get_backend("dynamodb")[ACCOUNT_ID]["us-east-1"].tables[name]


def _stored_size(table_name: str, key: dict[str, Any]) -> int:
    table = _table(table_name)
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
    item = table.get_item(DynamoType(key[table.hash_key_attr]), range_value)
    return int(item.size()) if item is not None else 0


def _write_units(table_name: str, key: dict[str, Any]) -> int:
    # The item after the write (for an update, as big as before or bigger in our writes).
    table = _table(table_name)
    key = {k: v for k, v in key.items() if k in (table.hash_key_attr, table.range_key_attr)}
    return _kb(_stored_size(table_name, key))


def _read_units(size: int, request: dict[str, Any]) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if request.get("ConsistentRead") else units / 2


def _transitions(stack: OfflineStack, execution_arn: str) -> int:
    sfn, count, kwargs = stack.client("stepfunctions"), 0, {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        count += sum(1 for e in page["events"] if e["type"].endswith("StateEntered"))
        if "nextToken" not in page:
            return count
        kwargs["nextToken"] = page["nextToken"]


def main(items: int) -> None:
    stack = OfflineStack(StackConfig(api_port=0, aws_port=0, parameters={"LogLevel": "ERROR"})).start()
    assert stack.issuer is not None
    api = Api(stack.api_url, stack.issuer.issue(f"cost-{uuid.uuid4().hex[:6]}"))
    bodies = [{"title": f"Item {i}", "contentType": "article", "price": 100} for i in range(items)]
    created = api.wait_final(api.submit("content.create", bodies, {}, maxConcurrency=20)["batchId"], timeout=3600)
    report = api.report(created["batchId"], "?format=jsonl")
    ids = [json.loads(line)["output"]["contentId"] for line in report.splitlines()]

    meter = Meter()
    stack.aws_server.wrap(meter.wrap)
    stack.invoker.reset_stats()
    started = time.monotonic()
    submitted = api.submit("content.update-price", ids, {"newPrice": 5})
    # What follows of the API (polling for the final status) is the client's choice, not the batch's cost.
    meter.ignored.add("ApiFunction")
    submit_ms = stack.invoker.busy_ms("ApiFunction")
    batch = api.wait_final(submitted["batchId"], timeout=3600)
    seconds = time.monotonic() - started
    assert batch["succeededItems"] == items, batch

    functions = stack.deployment.functions if stack.deployment else {}
    chunk_runs = stack.invoker.calls("ProcessChunkFunction")
    chunk_ms = stack.invoker.busy_ms("ProcessChunkFunction")
    lines: list[tuple[str, float, str]] = [
        (
            "standard transition",
            _transitions(stack, batch["executionArn"]) + chunk_runs,
            "parent states + one per child",
        ),
        ("express request", chunk_runs, "one child workflow per chunk run"),
        (
            "express GB-second",
            EXPRESS_MEMORY_GB * (chunk_ms + CHILD_OVERHEAD_MS * chunk_runs) / 1000,
            "children's duration at 64 MB",
        ),
    ]
    invocations, gb_seconds = 1.0, functions["ApiFunction"].memory_mb / 1024 * submit_ms / 1000
    for logical_id, spec in functions.items():
        if logical_id != "ApiFunction":
            invocations += stack.invoker.calls(logical_id)
            gb_seconds += spec.memory_mb / 1024 * stack.invoker.busy_ms(logical_id) / 1000
    lines += [
        ("lambda request", invocations, "every function; of the API, the submit"),
        ("lambda GB-second", gb_seconds, "measured offline (moto is slower than AWS)"),
        ("dynamodb write unit", meter.write_units, "from item sizes; transactions x2"),
        ("dynamodb read unit", meter.read_units, "from item sizes; eventually consistent x0.5"),
        (
            "s3 put/copy/list",
            sum(n for k, n in meter.requests.items() if k in ("s3 PUT", "s3 POST")),
            "manifest, lists",
        ),
        ("s3 get", sum(n for k, n in meter.requests.items() if k in ("s3 GET", "s3 HEAD")) + 1, "+1: the Map's reader"),
        ("eventbridge event", sum(n for k, n in meter.requests.items() if k.startswith("events")), "batch events"),
    ]
    print(f"content.update-price, {items:,} items, default options, no downstream call: {seconds:.1f} s offline\n")
    print(f"{'what':<22} {'quantity':>14} {'unit price $':>14} {'$ per 1M items':>15}  how")
    total = 0.0
    for what, quantity, how in lines:
        per_million = quantity * PRICES[what] * 1e6 / items
        total += per_million
        print(f"{what:<22} {quantity:>14,.1f} {PRICES[what]:>14.10f} {per_million:>15.4f}  {how}")
    print(f"\nDynamoDB requests: {dict(sorted((k, v) for k, v in meter.requests.items() if k.startswith('dynamodb')))}")
    print(f"total: ${total:.2f} per 1,000,000 items")
    stack.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
