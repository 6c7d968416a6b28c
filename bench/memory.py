"""Memory of the offline stack over a long session: the whole process tree's RSS after each batch.

One set of content items, then batch after batch of content.update-price over them. What should grow is
the data a real AWS keeps too (each batch's item records, its report, its execution history); all else
(dead copies, finished threads, idle environments) should level off. Figures printed, nothing asserted:
compare the growth per batch within one run, not absolute numbers across runs.
    python -m bench.memory [batches] [items]"""

import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from local.stack import OfflineStack, StackConfig
from tests.integration.client import Api

PROC = Path("/proc")
CONCURRENCY = 40


def _field_kib(path: Path, name: str) -> int:
    """A `Name:  123 kB` line of a /proc file; 0 if the process ended meanwhile (a worker retired)."""
    try:
        text = path.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(name):
            return int(line.split()[1])
    return 0  # a zombie has neither line


def _descendants(root: int) -> list[int]:
    """Every process under `root`: the environments are the fork server's children, not the stack's."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name, in parentheses, may hold spaces: the fields after its last ')' are plain.
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


@dataclass(frozen=True)
class TreeMemory:
    """In MiB. Summed RSS counts the pages the environments share with the fork server once per process
    (what `ps` adds up); PSS divides each shared page among its sharers: what the tree really holds."""

    stack_rss: float
    children: int
    children_rss: float
    tree_pss: float

    @property
    def tree_rss(self) -> float:
        return self.stack_rss + self.children_rss

    @classmethod
    def measure(cls) -> "TreeMemory":
        root = os.getpid()
        pids = _descendants(root)
        rss = [_field_kib(PROC / str(pid) / "status", "VmRSS:") / 1024 for pid in [root, *pids]]
        pss = sum(_field_kib(PROC / str(pid) / "smaps_rollup", "Pss:") for pid in [root, *pids]) / 1024
        return cls(rss[0], len(pids), sum(rss[1:]), pss)


def main(batches: int, items: int) -> None:
    stack = OfflineStack(StackConfig(api_port=0, aws_port=0, parameters={"LogLevel": "ERROR"})).start()
    assert stack.issuer is not None
    api = Api(stack.api_url, stack.issuer.issue(f"bench-{uuid.uuid4().hex[:6]}"))
    ids = api.create_contents(items)
    print(f"{items} items; {batches} batches of content.update-price over them, maxConcurrency {CONCURRENCY}")
    print("MiB: RSS of the stack process, of its children (fork server, environments) summed, of the whole")
    print("tree, and the tree's PSS (shared pages divided among their processes)\n")
    print(f"{'batch':>5} {'status':>9} {'s':>5} {'stack':>6} {'procs':>5} {'children':>8} {'tree':>6} {'PSS':>6}")
    before = TreeMemory.measure()
    after: list[TreeMemory] = []
    for n in range(1, batches + 1):
        started = time.perf_counter()
        batch_id = api.submit("content.update-price", ids, {"newPrice": n}, maxConcurrency=CONCURRENCY)["batchId"]
        status = api.wait_final(batch_id, timeout=1800)["status"]
        after.append(now := TreeMemory.measure())
        print(
            f"{n:>5} {status:>9} {time.perf_counter() - started:>5.0f} {now.stack_rss:>6.0f} {now.children:>5} "
            f"{now.children_rss:>8.0f} {now.tree_rss:>6.0f} {now.tree_pss:>6.0f}"
        )
    first, last, steps = after[0], after[-1], max(1, batches - 1)
    print(
        f"\nfrom batch 1 to {batches}, per batch: stack {(last.stack_rss - first.stack_rss) / steps:+.1f}, "
        f"tree RSS {(last.tree_rss - first.tree_rss) / steps:+.1f}, "
        f"tree PSS {(last.tree_pss - first.tree_pss) / steps:+.1f} MiB "
        f"(before the first batch: stack {before.stack_rss:.0f}, tree PSS {before.tree_pss:.0f})"
    )
    stack.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
