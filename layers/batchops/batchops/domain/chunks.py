"""Chunks: how a batch's items are cut for the chunk processor, and how its concurrency is split."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

# Items one chunk runs at once (threads). More would put one chunk's result writes on one DynamoDB partition
# at more than a few hundred writes per second; maxConcurrency beyond it comes from more chunks at once.
MAX_THREADS_PER_CHUNK = 25


@dataclass(frozen=True)
class Chunk:
    """Items [first_index, first_index + count) of a batch; their lines are bytes [start, end) of its manifest."""

    number: int
    first_index: int
    count: int
    start: int
    end: int

    @property
    def indices(self) -> range:
        return range(self.first_index, self.first_index + self.count)


@dataclass(frozen=True)
class ChunkState:
    chunk: Chunk
    # Every item of the chunk is recorded, or the batch stopped before they started.
    done: bool
    # Until when an invocation holds the chunk's lease (None: nobody holds it).
    held_until: datetime | None = None
    # Items of the chunk recorded so far.
    recorded: int = 0


@dataclass(frozen=True)
class Lease:
    """Who runs a chunk: one invocation at a time. A retry of the same workflow (a higher attempt) may take
    over from an attempt that crashed; any other holder is waited out until `until`."""

    execution: str
    attempt: int
    taken_at: datetime
    until: datetime


@dataclass(frozen=True)
class Concurrency:
    # Items one chunk runs at once.
    threads: int
    # Chunks running at once (the Map's MaxConcurrency).
    parallel_chunks: int
    # Items per chunk: at most the batch's chunkSize, fewer when needed for enough chunks to run at once.
    chunk_size: int


def split_concurrency(max_concurrency: int, chunk_size: int, total_items: int) -> Concurrency:
    """threads x parallel chunks = maxConcurrency exactly, so that many items really run at once."""
    cap = min(chunk_size, MAX_THREADS_PER_CHUNK, max_concurrency)
    threads = max(d for d in range(1, cap + 1) if max_concurrency % d == 0)
    parallel = max_concurrency // threads
    # Enough chunks for every parallel slot to have one: 200 items at maxConcurrency 100 make 4 chunks of 50.
    size = min(chunk_size, max(threads, math.ceil(total_items / parallel))) if total_items else chunk_size
    # A whole number of items per thread, so that no thread of a chunk idles while another finishes its last.
    return Concurrency(threads, parallel, max(threads, size // threads * threads))


def cut(starts: Sequence[int], end_of_manifest: int, size: int) -> list[Chunk]:
    """Chunks of `size` items, given the byte offset where each item's line starts."""
    chunks = []
    for number, first in enumerate(range(0, len(starts), size)):
        last = min(first + size, len(starts))
        end = starts[last] if last < len(starts) else end_of_manifest
        chunks.append(Chunk(number, first, last - first, starts[first], end))
    return chunks
