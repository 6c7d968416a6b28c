"""How a plug-in makes its apply idempotent per batch item: every change carries the item's change id
(batchId#index), and what an item creates gets an id derived from it. An item run again after a crash then
finds its change applied, or its creation made, and reports it instead of repeating it."""

import uuid

from batchops.domain.ports import ItemTask

# Appended to the message of an item whose effect was found applied by an earlier run of its chunk.
REPLAYED = " (applied before a restart of its chunk)"


def change_id(task: ItemTask) -> str:
    return f"{task.batch_id}#{task.index}"


def created_id(namespace: uuid.UUID, task: ItemTask) -> str:
    """The id of what this batch item creates: the same on every run of the item."""
    return str(uuid.uuid5(namespace, change_id(task)))
