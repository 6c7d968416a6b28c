"""Step Functions' "Execution Status Change" events, delivered to the template's EventBridge rules.

moto neither emits these events nor invokes Lambda targets of rules, so the offline stack does both:
when an execution ends, the event AWS would send goes, asynchronously as EventBridge delivers it, to
every function whose rule pattern (matched by moto's own EventBridge matcher) accepts it.
"""

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.events.models import EventPattern
from moto.events.utils import EventMessageType
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

from local.deploy import ACCOUNT_ID, EventRule

Invoke = Callable[[str, EventMessageType], object]


def _millis(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def status_change_event(execution: Execution) -> EventMessageType:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": execution.region_name,
        "resources": [execution.exec_arn],
        "detail": {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": execution.exec_status.value if execution.exec_status else None,
            "startDate": _millis(execution.start_date),
            "stopDate": _millis(execution.stop_date),
            # The state machine's logging keeps execution data out; so do these events.
            "input": None,
            "output": None,
            "error": execution.error,
            "cause": execution.cause,
        },
    }


class ExecutionEvents:
    def __init__(self, rules: list[EventRule], invoke: Invoke) -> None:
        self._rules = [(rule.function, EventPattern.load(json.dumps(rule.pattern))) for rule in rules]
        self._invoke = invoke
        self._original: Any = None

    def install(self) -> None:
        events = self
        self._original = original = BaseExecutionWorkerCommunication.terminated

        def terminated(comm: BaseExecutionWorkerCommunication) -> None:
            original(comm)
            events.publish(status_change_event(comm.execution))

        BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            BaseExecutionWorkerCommunication.terminated = self._original  # type: ignore[method-assign]
            self._original = None

    def publish(self, event: EventMessageType) -> None:
        for function, pattern in self._rules:
            if pattern.matches_event(event):
                threading.Thread(target=self._invoke, args=(function, event), daemon=True).start()
