"""EventPublisher over an EventBridge bus: source `batchops`."""

import json
from collections.abc import Mapping
from typing import Any

from batchops.adapters.aws_errors import aws_errors
from batchops.domain.errors import StoreUnavailableError

SOURCE = "batchops"


class EventBridgePublisher:
    def __init__(self, bus_name: str, client: Any) -> None:
        self._bus = bus_name
        self._events = client

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        entry = {"Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": self._bus}
        with aws_errors("publishing an event"):
            reply = self._events.put_events(Entries=[entry])
        if reply.get("FailedEntryCount"):
            code = reply["Entries"][0].get("ErrorCode", "unknown")
            raise StoreUnavailableError(f"publishing an event failed: {code}")
