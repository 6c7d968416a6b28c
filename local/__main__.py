"""`make run`: start the offline stack and keep it up until Ctrl-C."""

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

from local.console import FunctionOutput
from local.sam_local import write_sam_local_config
from local.stack import ROOT, OfflineStack, StackConfig

_STOP_SECONDS = 15


def _parameters() -> dict[str, str]:
    """Template parameters a person may set through the environment."""
    mapping = {
        "CONTRACT_ENDPOINT_URL": "ContractEndpointUrl",
        "CONTRACT_TIMEOUT_SECONDS": "ContractTimeoutSeconds",
        "LOG_LEVEL": "LogLevel",
        "MAX_BATCHES_PER_HOUR": "MaxBatchesPerHour",
        "RETENTION_DAYS": "RetentionDays",
    }
    # Locally, webhooks may go to a receiver on this machine over plain http.
    values = {"AllowLoopbackCallbacks": "true"}
    return values | {param: os.environ[env] for env, param in mapping.items() if os.environ.get(env)}


def stack_config() -> StackConfig:
    """The stack `make run` starts, as the environment sets it."""
    return StackConfig(
        api_port=int(os.environ.get("API_PORT", "3000")),
        aws_port=int(os.environ.get("AWS_PORT", "5000")),
        host=os.environ.get("BIND_HOST", "127.0.0.1"),
        parameters=_parameters(),
        # A line per request and per batch status change; the functions' JSON logs and EMF metrics would drown
        # them, so only their warnings and errors show, as plain lines, unless LOG_LEVEL=DEBUG asks for all.
        function_output=FunctionOutput.ALL if os.environ.get("LOG_LEVEL") == "DEBUG" else FunctionOutput.WARNINGS,
        activity=True,
    )


def main() -> int:
    config = stack_config()
    try:
        stack = OfflineStack(config).start()
    except OSError as e:
        print(f"could not start the local stack: {e} (set API_PORT / AWS_PORT to free ports)", file=sys.stderr)
        return 1
    assert stack.issuer is not None
    token = stack.issuer.issue("demo-user")
    api, aws = stack.api_url, stack.aws_endpoint
    sam = write_sam_local_config(stack, Path(os.path.relpath(ROOT / ".aws-sam" / "local")))
    sam_options = " ".join(sam.options())
    if config.host in ("127.0.0.1", "localhost"):
        sam_hint = "For sam local, restart with BIND_HOST=0.0.0.0 so that containers can reach this stack."
    else:
        sam_hint = f"""sam local against this stack (after `sam build`; see the README):
  sam local invoke {sam_options} -e events/api_create_content.json ApiFunction
  sam local start-api {sam_options} -p 3001"""
    print(
        f"""
batchops local stack is up (template.yaml deployed into an embedded moto).

  HTTP API        {api}   (Swagger UI: {api}/docs, description: {api}/openapi.json)
  AWS endpoint    {aws}   (aws --endpoint-url {aws} ...)
  State machine   {stack.output("StateMachineArn")}
  Tables          {stack.output("BatchesTableName")}, {stack.output("ContentTableName")}

A token for the user "demo-user", valid for one hour (POST {api}/_local/token {{"sub": "..."}} for others):

  export TOKEN={token}

Try:
  curl -s -X POST {api}/content -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
       -d '{{"title": "My first item", "contentType": "article", "price": 100}}'

Inspect executions with the AWS CLI (.venv/bin/aws; any credentials work locally):
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={stack.config.region}
  aws --endpoint-url {aws} stepfunctions list-executions --state-machine-arn {stack.output("StateMachineArn")}

{sam_hint}

Below: a line per API request and per batch status change (LOG_LEVEL=DEBUG adds the functions' JSON logs and
EMF metrics).
Ctrl-C stops the stack (everything lives in memory).
""",
        flush=True,
    )
    _wait_for_stop_signal()
    # Whatever is in flight, the stack is gone soon after Ctrl-C: its ports must not stay held.
    watchdog = threading.Timer(_STOP_SECONDS, lambda: os._exit(1))
    watchdog.daemon = True
    watchdog.start()
    stack.stop()
    return 0


def _wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM. The handler only writes a byte to a pipe: it takes no lock, so a
    second signal (make forwards SIGTERM, and a process-group kill sends another) can never deadlock it."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def wake(*_: object) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(write_end, b"x")

    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, wake)
    os.read(read_end, 1)


if __name__ == "__main__":
    sys.exit(main())
