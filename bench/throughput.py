"""Throughput of the offline stack: one batch per concurrency setting, figures printed, nothing asserted.

Shared machines are noisy: compare the ratios within one run, not absolute numbers across runs.
    python -m bench.throughput [items]"""

import resource
import sys
import time
import uuid

from local.stack import OfflineStack, StackConfig
from tests.integration.client import Api


def main(items: int) -> None:
    stack = OfflineStack(StackConfig(api_port=0, aws_port=0, parameters={"LogLevel": "ERROR"})).start()
    assert stack.issuer is not None
    api = Api(stack.api_url, stack.issuer.issue(f"bench-{uuid.uuid4().hex[:6]}"))
    sfn = stack.client("stepfunctions")
    started = time.perf_counter()
    ids = api.create_contents(items)
    create_ms = (time.perf_counter() - started) * 1000 / items
    print(f"{items} items; POST /content: {create_ms:.1f} ms per item\n")
    print(
        f"{'concurrency':>11} {'submit ms':>9} {'batch s':>8} {'items/s':>8} {'speed-up':>8} "
        f"{'item ms':>8} {'events/item':>11} {'peak':>5}"
    )
    baseline = None
    for concurrency in (1, 5, 10, 40):
        stack.invoker.reset_stats()
        t0 = time.perf_counter()
        batch_id = api.submit("content.update-price", ids, {"newPrice": concurrency}, maxConcurrency=concurrency)[
            "batchId"
        ]
        submit_ms = (time.perf_counter() - t0) * 1000
        batch = api.wait_final(batch_id, timeout=600)
        elapsed = time.perf_counter() - t0
        assert batch["succeededItems"] == items, batch
        events = 0
        kwargs = {"executionArn": batch["executionArn"], "maxResults": 1000}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events += len(page["events"])
            if "nextToken" not in page:
                break
            kwargs["nextToken"] = page["nextToken"]
        rate = items / elapsed
        baseline = baseline or rate
        print(
            f"{concurrency:>11} {submit_ms:>9.0f} {elapsed:>8.2f} {rate:>8.1f} {rate / baseline:>7.1f}x "
            f"{batch['avgItemDurationMs']:>8.1f} {events / items:>11.2f} "
            f"{stack.invoker.peak_concurrency('ProcessItemFunction'):>5}"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The handlers run in environments of their own: bench.memory measures the whole process tree.
    print(f"\npeak RSS of the stack process (moto, gateway, state machine interpreter): {peak_mb:.0f} MiB")
    print("events/item x 1,000 items must stay well under the 25,000-event limit of a Standard execution")
    stack.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
