"""Speed of the offline stack: figures printed, nothing asserted. Shared machines are noisy: compare the ratios
within one run, not absolute numbers across runs.

1. With a downstream contract service answering in 100 ms (a loopback server): 200 items at maxConcurrency
   10, their efficiency ((200 x 0.1 s / 10) / measured seconds) and the speed-up over a plain sequential
   loop doing the same work against the same endpoints; then the peak concurrency seen downstream for
   maxConcurrency 1, 10 and 100.
2. Without a downstream call: 100,000 items created by one content.create batch from an upload (items/s,
   the peak memory of the whole stack: server, fork server, environments), then a 100,000-item
   content.update-price batch cancelled once 1,000 items are processed (seconds until it is final).
   (`make cost` times a 10,000-item content.update-price batch.)
    python -m bench.throughput [--scale-only]"""

import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from batchops.adapters.contract_http import HttpContractGateway
from batchops.adapters.dynamo_content import DynamoContentRepository
from batchops.content.models import Change
from bench.memory import TreeMemory
from local.stack import OfflineStack, StackConfig
from tests.integration.client import Api
from tests.integration.contract_server import Behaviour, ContractServer

DOWNSTREAM_SECONDS = 0.1


def _stack(name: str, **parameters: str) -> tuple[OfflineStack, Api]:
    config = StackConfig(api_port=0, aws_port=0, stack_name=name, parameters={"LogLevel": "ERROR", **parameters})
    stack = OfflineStack(config).start()
    assert stack.issuer is not None
    owner = f"bench-{uuid.uuid4().hex[:6]}"
    return stack, Api(stack.api_url, stack.issuer.issue(owner), owner)


def _jsonl(values: Sequence[object]) -> bytes:
    return "".join(json.dumps(v) + "\n" for v in values).encode()


def _create(api: Api, count: int) -> list[str]:
    """`count` content items, created by one content.create batch from an upload; their ids in order."""
    bodies = [{"title": f"Item {i}", "contentType": "article", "price": 100} for i in range(count)]
    reply = api.submit_upload("content.create", api.upload(_jsonl(bodies)), {}, maxConcurrency=20)
    batch = api.wait_final(reply.body["batchId"], timeout=7200)
    assert batch["succeededItems"] == count, batch
    report = api.report(batch["batchId"], "?format=jsonl")
    return [json.loads(line)["output"]["contentId"] for line in report.splitlines()]


def _price_batch(api: Api, ids: list[str], price: int, **options: int) -> float:
    """Seconds from submit to final status of a content.update-price batch."""
    started = time.perf_counter()
    batch = api.wait_final(api.submit("content.update-price", ids, {"newPrice": price}, **options)["batchId"], 3600)
    assert batch["succeededItems"] == len(ids), batch
    return time.perf_counter() - started


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def downstream_figures(items: int) -> None:
    contract = ContractServer(default=Behaviour(delay_seconds=DOWNSTREAM_SECONDS))
    stack, api = _stack("bench-downstream", ContractEndpointUrl=contract.url, ContractTimeoutSeconds="5")
    try:
        ids = _create(api, max(items, 400))
        mc = 10
        seconds = _price_batch(api, ids[:items], 1, maxConcurrency=mc)
        ideal = items * DOWNSTREAM_SECONDS / mc
        # The loop a web server would run: the same database change and the same downstream call, one by one.
        repo = DynamoContentRepository(stack.output("ContentTableName"), stack.client("dynamodb"))
        gateway = HttpContractGateway(contract.url, 5)
        owner = api.owner or ""  # the same owner as the batch's: the same conditional change

        def loop() -> None:
            for n, content_id in enumerate(ids[:items]):
                repo.apply(Change(content_id, owner, {"price": 2}, "loop", f"loop#{n}", datetime.now(UTC), True))
                gateway.update_price(content_id, 2)

        sequential = _timed(loop)
        print(f"{items} items, downstream {DOWNSTREAM_SECONDS * 1000:.0f} ms per call, maxConcurrency {mc}:")
        print(f"  batch {seconds:.2f} s (ideal {ideal:.2f} s): efficiency {ideal / seconds:.2f}")
        print(f"  plain sequential loop {sequential:.2f} s: speed-up {sequential / seconds:.1f}x\n", flush=True)
        # Calls of 1 s: an item spends nearly all its time downstream, where its concurrency is seen (moto's
        # DynamoDB, one operation at a time, would otherwise hold part of the items in its queue).
        contract.default = Behaviour(delay_seconds=1.0)
        print(f"{'maxConcurrency':>14} {'items':>6} {'peak downstream':>16} {'seconds':>8}", flush=True)
        for mc in (1, 10, 100):
            count = max(4 * mc, 20)
            contract.take_peak()
            took = _price_batch(api, ids[:count], mc, maxConcurrency=mc)
            print(f"{mc:>14} {count:>6} {contract.take_peak():>16} {took:>8.1f}", flush=True)
    finally:
        stack.stop()
        contract.stop()


def scale_figures(big: int) -> None:
    stack, api = _stack("bench-scale")
    try:
        bodies = [{"title": f"Item {i}", "contentType": "article", "price": 100} for i in range(big)]
        started, peak = time.perf_counter(), TreeMemory.measure()
        reply = api.submit_upload("content.create", api.upload(_jsonl(bodies)), {}, maxConcurrency=20)
        while (batch := api.batch(reply.body["batchId"]))["status"] not in ("completed", "failed", "cancelled"):
            peak = max(peak, TreeMemory.measure(), key=lambda m: m.tree_pss)
            time.sleep(2)
        took = time.perf_counter() - started
        print(f"\n{big:,} items (content.create from an upload, maxConcurrency 20): {batch['status']},")
        print(f"  {batch['succeededItems']:,} succeeded in {took:.0f} s, {big / took:.0f} items/s")
        print(f"  peak memory: stack process RSS {peak.stack_rss:.0f} MiB, whole tree PSS {peak.tree_pss:.0f} MiB")
        report = api.report(batch["batchId"], "?format=jsonl")
        ids = [json.loads(line)["output"]["contentId"] for line in report.splitlines()]

        cancelled = api.submit_upload("content.update-price", api.upload(_jsonl(ids)), {"newPrice": 5})
        cancelled_id = cancelled.body["batchId"]
        api.wait_for(cancelled_id, lambda b: b["processedItems"] >= 1000, timeout=600)
        started = time.perf_counter()
        api.request("POST", f"/batches/{cancelled_id}/cancel")
        final = api.wait_final(cancelled_id, timeout=600)
        took = time.perf_counter() - started
        print(f"cancel of a {big:,}-item batch: {final['status']} {took:.1f} s after the cancel")
        print(f"  {final['cancelledItems']:,} cancelled, {final['processedItems']:,} processed")
    finally:
        stack.stop()


if __name__ == "__main__":
    if "--scale-only" not in sys.argv:
        downstream_figures(200)
    scale_figures(100_000)
