"""The one place operation families are registered: one line per family. The engine never names one."""

from typing import Any

from batchops.content.family import CONTENT
from batchops.operations.family import Family
from batchops.operations.registry import OperationRegistry
from batchops.users.family import USERS

FAMILIES: tuple[Family[Any], ...] = (CONTENT, USERS)

REGISTRY = OperationRegistry([op for family in FAMILIES for op in family.operations])
