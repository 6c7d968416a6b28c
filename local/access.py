"""Least privilege, checked as the stack runs: every AWS call a function or the state machine makes is held
against the policies of the role `sam deploy` would give it, and the calls those would refuse are kept.

Each function's invocations sign their calls with an access key id that is the function's logical id;
moto's Step Functions interpreter signs the state machine's task calls with its own fixed key. Calls
signed with any other key (the tests', the stack's own) are made by no role of ours and are not checked."""

import io
import json
import logging
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from werkzeug.wsgi import get_input_stream

from local.authorization import Authorization, authorizations, needs_body, signer
from local.policies import Roles, Statement, is_allowed

# The access key id moto's interpreter signs every state machine task call with
# (moto/stepfunctions/parser/asl/utils/boto_client.py).
STATE_MACHINE_ACCESS_KEY = "ak"
# Under `make run` nobody takes the refused calls: the latest are kept, and each is logged as it happens.
_KEPT = 10_000
_log = logging.getLogger("batchops.local")


@dataclass(frozen=True)
class Call:
    principal: str  # the logical id of the function or state machine
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.principal}: {self.action} on {self.resource}"


@dataclass
class _Fault:
    principal: str
    action: str
    error_code: str
    times: int
    # Only calls on this table (its name), or on any.
    table: str | None = None


class AccessRecorder:
    """Checks each request signed by one of the granted roles and keeps the calls its role would refuse."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roles: dict[str, tuple[str, list[Statement]]] = {}  # access key id -> (principal, statements)
        self._denied: deque[Call] = deque(maxlen=_KEPT)
        self._faults: list[_Fault] = []

    def grant(self, roles: Roles) -> None:
        """Check the calls of these roles from now on."""
        by_key = {name: (name, statements) for name, statements in roles.functions.items()}
        if len(roles.state_machines) > 1:
            # One key signs the calls of every state machine: which one made a call is not known.
            raise ValueError(f"one state machine can be checked, not {', '.join(roles.state_machines)}")
        for name, statements in roles.state_machines.items():
            by_key[STATE_MACHINE_ACCESS_KEY] = (name, statements)
        with self._lock:
            self._roles = by_key

    def denied(self) -> list[Call]:
        """The calls the roles' policies would have refused, in the order they were made."""
        with self._lock:
            return list(self._denied)

    def take_denied(self) -> list[Call]:
        """The refused calls, forgotten once returned: the next call reports only what follows."""
        with self._lock:
            denied = list(self._denied)
            self._denied.clear()
            return denied

    def fail(self, principal: str, action: str, error_code: str, times: int = 1, table: str | None = None) -> None:
        """Answer the next `times` DynamoDB calls of `principal` for `action` (on `table`, if given) with
        `error_code`, as DynamoDB answers (HTTP 400, the code in `__type`): a failure of AWS itself, where our
        code meets it."""
        with self._lock:
            self._faults.append(_Fault(principal, action, error_code, times, table))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def wrap(self, app: WSGIApplication) -> WSGIApplication:
        """`app`, with each request checked before `app` serves it."""

        def checked(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            fault = self.check(environ)
            if fault is None:
                return app(environ, start_response)
            body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{fault}", "message": "injected"})
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
            return [body.encode()]

        return checked

    def check(self, environ: WSGIEnvironment) -> str | None:
        """Record what the request's role would refuse; the error code of an injected fault, if one applies."""
        who = signer(environ)
        if who is None:
            return None
        with self._lock:
            role = self._roles.get(who.access_key)
        if role is None:
            return None
        principal, statements = role
        body = _read_body(environ) if needs_body(environ, who) else b""
        needed = authorizations(environ, who, body)
        refused = [
            Call(principal, action, resource)
            for action, resource in needed
            if not is_allowed(statements, action, resource)
        ]
        for call in refused:
            _log.warning("refused on AWS by its role in template.yaml: %s", call)
        with self._lock:
            self._denied.extend(refused)
            return self._take_fault(principal, needed)

    def _take_fault(self, principal: str, needed: list[Authorization]) -> str | None:
        for fault in self._faults:
            if (
                fault.times > 0
                and fault.principal == principal
                and any(
                    action == fault.action and (fault.table is None or resource.endswith(f":table/{fault.table}"))
                    for action, resource in needed
                )
            ):
                fault.times -= 1
                return fault.error_code
        return None


def _read_body(environ: WSGIEnvironment) -> bytes:
    """The request's body, left in place for moto to read in turn."""
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body
