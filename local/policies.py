"""The IAM roles `sam deploy` would create for our functions and state machines, and IAM's rule for whether
one of their statements lets a call through.

template.yaml goes through samtranslator, the SAM transform CloudFormation runs, so the policy templates
(DynamoDBCrudPolicy, S3WritePolicy, ...) expand into exactly the statements AWS would attach; their
intrinsics are then resolved against the offline deployment, giving the ARNs of what was deployed."""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from samtranslator.public.parser import Parser
from samtranslator.public.translator import Translator

from local.deploy import ACCOUNT_ID, Deployment
from local.template import Context, TemplateError, evaluate_conditions, load_template, parameter_values, resolve

Statement = Mapping[str, Any]

# Where the transform takes code from. It only copies these into the output, yet refuses local paths,
# which `sam deploy` uploads first: any s3:// URI stands for them here.
_CODE_PROPERTIES = ("CodeUri", "DefinitionUri", "ContentUri")
# The property of each generated resource that names its role.
_ROLE_PROPERTY = {"AWS::Lambda::Function": "Role", "AWS::StepFunctions::StateMachine": "RoleArn"}


@dataclass(frozen=True)
class Roles:
    """The inline policy statements of each function's and state machine's role, by their logical id.

    Managed policies (AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess) are left out: they grant
    writing logs and traces, which Lambda and the X-Ray daemon do without our code making AWS calls, so
    none of the calls our code makes may count on them."""

    functions: dict[str, list[Statement]]
    state_machines: dict[str, list[Statement]]


def translate(template_path: Path, region: str, parameters: Mapping[str, str]) -> dict[str, Any]:
    """The template as the SAM transform hands it to CloudFormation, its intrinsics left in place."""
    template = load_template(template_path)
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for key in _CODE_PROPERTIES:
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://offline/{properties[key]}"
    # The session only tells the transform its region (so its partition); it makes no calls: managed
    # policy ARNs come from the map the transform bundles.
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    translated: dict[str, Any] = translator.translate(template, parameter_values=dict(parameters))
    return translated


def role_statements(translated: Mapping[str, Any], ctx: Context) -> Roles:
    """The statements of every generated role, resolved in `ctx`; `ctx.conditions` are evaluated here."""
    evaluate_conditions(translated, ctx)
    resources: Mapping[str, Any] = translated["Resources"]
    roles = Roles({}, {})
    for name, resource in resources.items():
        role_property = _ROLE_PROPERTY.get(resource["Type"])
        if role_property is None or not _enabled(resource, ctx):
            continue
        role_ref = resource["Properties"].get(role_property)
        if not (isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref):
            raise TemplateError(f"{name}: its role is not one SAM generates, so its policies are unknown offline")
        role = resources[role_ref["Fn::GetAtt"][0]]
        statements = [
            statement
            for policy in resolve(role["Properties"].get("Policies", []), ctx)
            for statement in _listed(policy["PolicyDocument"]["Statement"])
        ]
        by_kind = roles.functions if resource["Type"] == "AWS::Lambda::Function" else roles.state_machines
        by_kind[name] = statements
    return roles


def deployed_roles(
    template_path: Path, deployment: Deployment, region: str, stack_name: str, overrides: Mapping[str, str]
) -> Roles:
    """The roles of the template as `deployment` deployed it, with `overrides` of its parameters."""
    translated = translate(template_path, region, overrides)
    ctx = Context(region, ACCOUNT_ID, stack_name, parameter_values(translated, overrides))
    ctx.ref_resource = lambda name: _deployed(deployment.physical, name)
    ctx.get_att = lambda name, attr: _deployed(deployment.attributes.get(name, {}), attr, of=name)
    return role_statements(translated, ctx)


def is_allowed(statements: Iterable[Statement], action: str, resource: str) -> bool:
    """IAM's evaluation of identity policies: allowed when a statement allows it and none denies it.

    Conditions are not evaluated (none of our statements has one): a statement with a Condition is taken
    as matching nothing, so an Allow under a condition grants nothing and a Deny under one refuses nothing."""
    allowed = False
    for statement in statements:
        if not _matches(statement, action, resource):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def _matches(statement: Statement, action: str, resource: str) -> bool:
    if "Condition" in statement:
        return False
    return _element_matches(statement, "Action", action, ignore_case=True) and _element_matches(
        statement, "Resource", resource, ignore_case=False
    )


def _element_matches(statement: Statement, element: str, value: str, *, ignore_case: bool) -> bool:
    """Action/NotAction or Resource/NotResource: a statement with neither matches nothing."""
    if element in statement:
        return any(_pattern(p, ignore_case).fullmatch(value) for p in _listed(statement[element]))
    if f"Not{element}" in statement:
        return not any(_pattern(p, ignore_case).fullmatch(value) for p in _listed(statement[f"Not{element}"]))
    return False


@cache
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM's wildcards: * any run of characters (across : and / too), ? exactly one; nothing else is special.
    regex = "".join({"*": ".*", "?": "."}.get(char, re.escape(char)) for char in text)
    return re.compile(regex, (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


def _listed(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else [value]


def _enabled(resource: Mapping[str, Any], ctx: Context) -> bool:
    condition = resource.get("Condition")
    return condition is None or ctx.conditions[condition]


def _deployed(values: Mapping[str, str], key: str, of: str = "") -> str:
    if key not in values:
        raise TemplateError(f"a policy refers to {of + '.' if of else ''}{key}, which was not deployed offline")
    return values[key]
