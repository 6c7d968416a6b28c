"""The one place operations are registered. New plug-ins are added here, and nowhere in the engine."""

from batchops.content.operations import CONTENT_OPERATIONS, ContentResources
from batchops.operations.registry import OperationRegistry

# The resources every registered operation may use; grows with the plug-ins.
Resources = ContentResources

REGISTRY: OperationRegistry[Resources] = OperationRegistry([*CONTENT_OPERATIONS])
