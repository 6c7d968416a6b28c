"""An operation family: one package's plug-in (content, users, ...), registered in one line of catalog.py.

A family brings its operations, what they need when items run (its resources: its store, its downstream
clients), built from the settings by the chunk function only, and optionally its HTTP routes with what they
use (its services), built by the API function only. The engine and the other families never see either.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from batchops.adapters.aws_clients import AwsClients
from batchops.operations.registry import BoundFamily, Operation
from batchops.settings import Settings


@dataclass(frozen=True)
class Family[ResourcesT]:
    # The prefix of its operations' names: "content" for content.update-price.
    name: str
    operations: Sequence[Operation[Any, ResourcesT]]
    resources: Callable[[Settings, AwsClients], ResourcesT]
    # Its routes; they reach their services with batchops.api.routing.family_services(router, <services type>).
    router: Router | None = None
    # What its routes use, one object of its own type.
    services: Callable[[Settings, AwsClients], object] | None = None

    def __post_init__(self) -> None:
        if (self.router is None) != (self.services is None):
            raise ValueError(f"family {self.name}: routes and their services come together")
        strangers = [op.name for op in self.operations if not op.name.startswith(f"{self.name}.")]
        if strangers:
            raise ValueError(f"family {self.name}: operation names must start with {self.name}.: {strangers}")

    def with_resources(self, resources: ResourcesT) -> BoundFamily[ResourcesT]:
        return BoundFamily(self.name, self.operations, resources)
