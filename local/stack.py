"""The offline stack: an embedded moto (with real Step Functions executions), template.yaml deployed into
it, our handlers run in Lambda-like execution environments, and the HTTP API served like API Gateway would."""

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.core.config import default_user_config
from moto.events.utils import EventMessageType

from local.access import AccessRecorder
from local.aws_endpoint import LocalAwsServer
from local.batch_changes import BatchChanges
from local.console import Console, FunctionOutput
from local.deploy import Deployer, Deployment
from local.execution_events import ExecutionEvents
from local.gateway import LOCAL_PREFIX, LocalGateway
from local.invoker import LambdaInvoker
from local.issuer import LocalIssuer
from local.moto_early_stops import MotoEarlyStops
from local.moto_map_workers import MotoMapWorkers
from local.moto_memory import MotoMemory
from local.moto_transactions import MotoTransactions
from local.policies import deployed_roles

ROOT = Path(__file__).resolve().parent.parent
LOCAL_AUDIENCE = "batchops-local"


@dataclass
class StackConfig:
    api_port: int = 3000
    aws_port: int = 5000
    # 127.0.0.1 keeps the stack private to this machine; 0.0.0.0 lets containers (SAM local) reach it.
    host: str = "127.0.0.1"
    region: str = "us-east-1"
    stack_name: str = "batchops-local"
    parameters: Mapping[str, str] = field(default_factory=dict)
    # What the functions print: all of it (tests read their EMF metrics), or only their warnings and errors.
    function_output: FunctionOutput = FunctionOutput.ALL
    # A line per API request and per batch status change, for a person watching (`make run`).
    activity: bool = False


class OfflineStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.console = Console(config.function_output)
        self.invoker = LambdaInvoker(self.console.function_printed)
        # Holds each AWS call of our functions and state machine against the role SAM would give it.
        self.access = AccessRecorder()
        self.deployment: Deployment | None = None
        self._moto: LocalAwsServer | None = None
        self._gateway: LocalGateway | None = None
        self._events: ExecutionEvents | None = None
        self._batch_changes: BatchChanges | None = None
        # moto keeps what nothing reads (dead DynamoDB items, finished threads): let go, for long sessions.
        self._memory = MotoMemory()
        self._transactions = MotoTransactions()
        self._map_workers = MotoMapWorkers()
        self._early_stops = MotoEarlyStops()
        self.issuer: LocalIssuer | None = None

    @property
    def aws_endpoint(self) -> str:
        assert self._moto is not None
        return f"http://127.0.0.1:{self._moto.get_host_and_port()[1]}"

    @property
    def api_url(self) -> str:
        assert self._gateway is not None
        return f"http://127.0.0.1:{self._gateway.port}"

    def start(self) -> "OfflineStack":
        cfg = self.config
        # moto's own request log would drown the handlers' logs.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # moto's interpreter logs every Fail state at ERROR: for us, the normal end of a failed or cancelled
        # batch. What an execution really did is in its history (and in the batch).
        logging.getLogger("moto.stepfunctions.parser.asl").setLevel(logging.CRITICAL)
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        self._memory.install()
        self._transactions.install()
        self._map_workers.install()
        self._early_stops.install()
        self._moto = LocalAwsServer(self.access, ip_address=cfg.host, port=cfg.aws_port)
        self._moto.start()
        endpoint = self.aws_endpoint
        # Everything in this process talks to the embedded moto; the handlers' environments are told too.
        os.environ.update(
            {
                "MOTO_PORT": endpoint.rsplit(":", 1)[1],
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": cfg.region,
                "AWS_REGION": cfg.region,
            }
        )
        session = boto3.session.Session(region_name=cfg.region)
        # The gateway binds first: its port is part of the issuer URL the template is deployed with.
        self.issuer = LocalIssuer("", LOCAL_AUDIENCE)
        on_request = self.console.request if cfg.activity else None
        self._gateway = LocalGateway(cfg.host, cfg.api_port, self.issuer, session.client("lambda"), on_request)
        self.issuer.issuer = f"{self.api_url}{LOCAL_PREFIX}"
        # moto runs only STANDARD child workflows; passwords are hashed at the lowest cost, so that thousands
        # of users are created in seconds (README: the local stack).
        overrides = {
            "JwtIssuer": self.issuer.issuer,
            "JwtAudience": LOCAL_AUDIENCE,
            "ChunkWorkflowType": "STANDARD",
            "PasswordHashCost": "10",
            **cfg.parameters,
        }
        self.deployment = Deployer(ROOT / "template.yaml", cfg.stack_name, cfg.region, overrides, session).deploy()
        self.access.grant(
            deployed_roles(ROOT / "template.yaml", self.deployment, cfg.region, cfg.stack_name, overrides)
        )
        runtime = {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": cfg.region, "AWS_DEFAULT_REGION": cfg.region}
        for spec in self.deployment.functions.values():
            self.invoker.register(spec, runtime)
        self.invoker.install()
        self._events = ExecutionEvents(self.deployment.rules, self._invoke_async)
        self._events.install()
        if cfg.activity:
            self._batch_changes = BatchChanges(self.output("BatchesTableName"), cfg.region, self.console.write)
            self._batch_changes.install()
        self._gateway.serve(self.deployment)
        return self

    def _invoke_async(self, function: str, event: EventMessageType) -> None:
        assert self.deployment is not None
        self.invoker.invoke(self.deployment.functions[function].name, event)

    def stop(self) -> None:
        if self._gateway:
            self._gateway.stop()
        if self._events:
            self._events.uninstall()
        if self._batch_changes:
            self._batch_changes.uninstall()
        self.invoker.uninstall()
        if self._moto:
            self._moto.stop()
        self._memory.uninstall()
        self._transactions.uninstall()
        self._map_workers.uninstall()
        self._early_stops.uninstall()

    @property
    def aws_server(self) -> LocalAwsServer:
        """The local AWS endpoint (bench/cost.py meters its requests)."""
        assert self._moto is not None, "start() first"
        return self._moto

    def output(self, name: str) -> str:
        assert self.deployment is not None
        return self.deployment.outputs[name]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name=self.config.region)
