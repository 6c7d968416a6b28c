"""The roles template.yaml gives, resolved against a made-up offline deployment (no AWS, no moto)."""

from local.deploy import ACCOUNT_ID, Deployment
from local.policies import Roles, deployed_roles
from local.template import load_template
from tests.conftest import ROOT

REGION = "us-east-1"
STACK = "unit"
TEMPLATE = ROOT / "template.yaml"


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def function_arn(logical_id: str) -> str:
    return arn("lambda", f"function:{STACK}-{logical_id}")


def table_arn(logical_id: str) -> str:
    return arn("dynamodb", f"table/{STACK}-{logical_id}")


# Named in the template (its role starts its own child workflows).
STATE_MACHINE_NAME = f"{STACK}-batches"
STATE_MACHINE_ARN = arn("states", f"stateMachine:{STATE_MACHINE_NAME}")
SECRET_ARN = arn("secretsmanager", "secret:unit-WebhookSecret-AbCdEf")
BUCKET = "unit-reportsbucket"
ITEMS_BUCKET = "unit-itemsbucket"
BUS = f"{STACK}-batches"


def _deployed(name: str, kind: str) -> tuple[str, dict[str, str]]:
    """A resource's Ref and attributes, named as the Deployer names them (the same names for any template)."""
    physical = f"{STACK}-{name}"
    if kind == "AWS::DynamoDB::Table":
        return physical, {"Arn": table_arn(name)}
    if kind == "AWS::Serverless::Function":
        return physical, {"Arn": function_arn(name)}
    if kind == "AWS::Serverless::StateMachine":
        return (STATE_MACHINE_ARN, {"Arn": STATE_MACHINE_ARN, "Name": STATE_MACHINE_NAME})
    if kind == "AWS::S3::Bucket":
        return physical.lower(), {"Arn": f"arn:aws:s3:::{physical.lower()}"}
    if kind == "AWS::Events::EventBus":
        return BUS, {"Arn": arn("events", f"event-bus/{BUS}"), "Name": BUS}
    if kind == "AWS::SecretsManager::Secret":
        return SECRET_ARN, {"Id": SECRET_ARN}
    return physical, {"Arn": arn("unknown", physical)}


def _deployment() -> Deployment:
    resources = load_template(TEMPLATE)["Resources"]
    deployed = {name: _deployed(name, resource["Type"]) for name, resource in resources.items()}
    return Deployment(
        ROOT,
        physical={name: ref for name, (ref, _) in deployed.items()},
        attributes={name: attrs for name, (_, attrs) in deployed.items()},
    )


def roles() -> Roles:
    overrides = {"JwtIssuer": "https://issuer.example", "JwtAudience": "batchops"}
    return deployed_roles(TEMPLATE, _deployment(), REGION, STACK, overrides)
