"""IAM's evaluation of identity policies, and the roles SAM generates from template.yaml."""

from typing import Any

import pytest

from local.policies import Statement, is_allowed, role_statements
from local.template import Context, TemplateError, load_template
from tests.unit.deployed_roles import (
    BUCKET,
    ITEMS_BUCKET,
    STATE_MACHINE_ARN,
    STATE_MACHINE_NAME,
    TEMPLATE,
    arn,
    function_arn,
    roles,
    table_arn,
)

ROLES = roles()
TABLE = table_arn("BatchesTable")


def _allow(action: Any, resource: Any, **more: Any) -> Statement:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


@pytest.mark.parametrize(
    ("statement", "action", "resource"),
    [
        (_allow("dynamodb:GetItem", TABLE), "dynamodb:GetItem", TABLE),
        (_allow(["s3:PutObject", "dynamodb:GetItem"], [TABLE]), "dynamodb:GetItem", TABLE),
        (_allow("DynamoDB:getitem", TABLE), "dynamodb:GetItem", TABLE),
        (_allow("dynamodb:*", TABLE), "dynamodb:UpdateItem", TABLE),
        (_allow("dynamodb:Get*", TABLE), "dynamodb:GetItem", TABLE),
        (_allow("dynamodb:?etItem", TABLE), "dynamodb:GetItem", TABLE),
        (_allow("*", "*"), "s3:GetObject", "arn:aws:s3:::bucket/key"),
        (_allow("s3:GetObject", "arn:aws:s3:::bucket/*"), "s3:GetObject", "arn:aws:s3:::bucket/a/b/c"),
        (
            _allow("states:StopExecution", "arn:aws:states:*:*:execution:m:*"),
            "states:StopExecution",
            arn("states", "execution:m:b1"),
        ),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": TABLE}, "dynamodb:GetItem", TABLE),
        (
            {"Effect": "Allow", "Action": "dynamodb:GetItem", "NotResource": f"{TABLE}/index/*"},
            "dynamodb:GetItem",
            TABLE,
        ),
    ],
)
def test_a_statement_allows_what_its_action_and_resource_patterns_match(
    statement: Statement, action: str, resource: str
) -> None:
    assert is_allowed([statement], action, resource)


@pytest.mark.parametrize(
    ("statement", "action", "resource"),
    [
        (_allow("dynamodb:GetItem", TABLE), "dynamodb:UpdateItem", TABLE),
        (_allow("dynamodb:GetItem", TABLE), "dynamodb:GetItem", table_arn("ContentTable")),
        (_allow("dynamodb:GetItem", TABLE), "dynamodb:GetItem", f"{TABLE}/index/byOwner"),
        (_allow("dynamodb:GetItem", TABLE.upper()), "dynamodb:GetItem", TABLE),
        (_allow("dynamodb:?etItem", TABLE), "dynamodb:BatchGetItem", TABLE),
        (_allow("s3:GetObject", "arn:aws:s3:::bucket"), "s3:GetObject", "arn:aws:s3:::bucket/key"),
        (_allow("dynamodb:Get.tem", TABLE), "dynamodb:GetItem", TABLE),
        ({"Effect": "Allow", "NotAction": "dynamodb:*", "Resource": TABLE}, "dynamodb:GetItem", TABLE),
        ({"Effect": "Allow", "Action": "dynamodb:GetItem", "NotResource": TABLE}, "dynamodb:GetItem", TABLE),
        ({"Effect": "Allow", "Action": "dynamodb:GetItem"}, "dynamodb:GetItem", TABLE),
        (
            _allow("dynamodb:GetItem", TABLE, Condition={"Bool": {"aws:SecureTransport": "true"}}),
            "dynamodb:GetItem",
            TABLE,
        ),
    ],
)
def test_a_statement_allows_nothing_its_patterns_do_not_match_nor_anything_under_a_condition(
    statement: Statement, action: str, resource: str
) -> None:
    assert not is_allowed([statement], action, resource)


def test_an_explicit_deny_wins_over_any_allow() -> None:
    deny = {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}
    assert is_allowed([_allow("dynamodb:*", TABLE)], "dynamodb:DeleteItem", TABLE)
    assert not is_allowed([_allow("dynamodb:*", TABLE), deny], "dynamodb:DeleteItem", TABLE)
    assert not is_allowed([deny, _allow("dynamodb:*", TABLE)], "dynamodb:DeleteItem", TABLE)


def test_no_statement_allows_nothing() -> None:
    assert not is_allowed([], "dynamodb:GetItem", TABLE)


def test_sam_generates_a_role_for_every_function_and_the_state_machine() -> None:
    resources = load_template(TEMPLATE)["Resources"]
    functions = {name for name, resource in resources.items() if resource["Type"] == "AWS::Serverless::Function"}
    assert set(ROLES.functions) == functions
    assert set(ROLES.state_machines) == {"BatchStateMachine"}


def test_the_notifier_may_read_the_batches_table_and_its_index_but_not_the_content_table() -> None:
    notifier = ROLES.functions["NotifyBatchFunction"]
    assert is_allowed(notifier, "dynamodb:GetItem", TABLE)
    assert is_allowed(notifier, "dynamodb:Query", f"{TABLE}/index/byOwner")
    assert not is_allowed(notifier, "dynamodb:GetItem", table_arn("ContentTable"))


def test_policy_templates_resolve_to_the_deployed_names_and_arns() -> None:
    api = ROLES.functions["ApiFunction"]
    assert is_allowed(api, "states:StartExecution", STATE_MACHINE_ARN)
    assert is_allowed(api, "states:StopExecution", arn("states", f"execution:{STATE_MACHINE_NAME}:b-1"))
    assert not is_allowed(api, "states:StopExecution", arn("states", "execution:another-machine:b-1"))
    assert is_allowed(api, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/b-1.json")
    machine = ROLES.state_machines["BatchStateMachine"]
    assert is_allowed(machine, "lambda:InvokeFunction", function_arn("ProcessChunkFunction"))
    # A Distributed Map: its chunk lists from the items bucket, its children as executions of itself.
    assert is_allowed(machine, "s3:GetObject", f"arn:aws:s3:::{ITEMS_BUCKET}/batches/b-1/chunks-0.json")
    assert is_allowed(machine, "states:StartExecution", STATE_MACHINE_ARN)
    assert not is_allowed(machine, "states:StartExecution", arn("states", "stateMachine:another-machine"))
    assert not is_allowed(machine, "lambda:InvokeFunction", arn("lambda", "function:someone-elses"))


def test_managed_policies_grant_none_of_the_calls_our_code_makes() -> None:
    # AWSXrayWriteOnlyAccess is attached to the state machine's role, yet it is no statement here.
    assert not is_allowed(ROLES.state_machines["BatchStateMachine"], "xray:PutTraceSegments", "*")


def test_a_role_that_sam_does_not_generate_is_refused_as_unknown() -> None:
    translated = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": "arn:aws:iam::123456789012:role/mine"}}
        }
    }
    with pytest.raises(TemplateError, match="Fn: its role is not one SAM generates"):
        role_statements(translated, Context("us-east-1", "123456789012", "s", {}))
