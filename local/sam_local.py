"""What `sam local invoke` and `sam local start-api` need to run our functions against the local stack.

Under SAM local, `!Ref` of a table or state machine resolves to its logical id, and containers cannot
reach 127.0.0.1 of the host. The local stack therefore writes an env-vars file with every function's
resolved environment, and gives the template parameters that point the containers back at it.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from local.stack import OfflineStack

# Docker resolves this name to the host (the docker0 gateway) when given `--add-host NAME:host-gateway`.
CONTAINER_HOST = "host.docker.internal"


@dataclass(frozen=True)
class SamLocalConfig:
    env_file: Path
    parameter_overrides: list[str]

    def options(self) -> list[str]:
        """The options every `sam local invoke` / `start-api` needs to use the local stack."""
        return [
            "--skip-pull-image",
            "--env-vars",
            str(self.env_file),
            "--parameter-overrides",
            " ".join(self.parameter_overrides),
            "--add-host",
            f"{CONTAINER_HOST}:host-gateway",
        ]


def write_sam_local_config(stack: OfflineStack, directory: Path) -> SamLocalConfig:
    assert stack.deployment is not None
    aws_port = stack.aws_endpoint.rsplit(":", 1)[1]
    api_port = stack.api_url.rsplit(":", 1)[1]
    # The template declares these through parameters that stay empty when deployed (so the variables do
    # not exist there). SAM CLI 1.170 does not evaluate Fn::If: it declares them "" and takes this file's
    # values; the parameters are passed too, for a SAM CLI that does. SAM ignores the variables a
    # function does not declare.
    local = {
        "AWS_ENDPOINT_URL": f"http://{CONTAINER_HOST}:{aws_port}",
        "LOCAL_TOKEN_INTROSPECTION_URL": f"http://{CONTAINER_HOST}:{api_port}/_local/introspect",
    }
    env = {logical_id: {**spec.environment, **local} for logical_id, spec in stack.deployment.functions.items()}
    directory.mkdir(parents=True, exist_ok=True)
    env_file = directory / "env.json"
    env_file.write_text(json.dumps(env, indent=2) + "\n")
    parameters = {
        "LocalAwsEndpointUrl": "AWS_ENDPOINT_URL",
        "LocalTokenIntrospectionUrl": "LOCAL_TOKEN_INTROSPECTION_URL",
    }
    return SamLocalConfig(env_file, [f"{name}={local[variable]}" for name, variable in parameters.items()])
