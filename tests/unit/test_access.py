"""The access recorder: requests as boto3 signs them, held against the roles template.yaml gives."""

import io
from collections.abc import Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import pytest

from local.access import STATE_MACHINE_ACCESS_KEY, AccessRecorder, Call
from local.authorization import Authorization
from local.policies import Roles, Statement, is_allowed
from tests.unit.deployed_roles import (
    BUCKET,
    BUS,
    ITEMS_BUCKET,
    SECRET_ARN,
    STATE_MACHINE_ARN,
    STATE_MACHINE_NAME,
    arn,
    function_arn,
    roles,
)
from tests.unit.signed_requests import authorized, signed

ROLES = roles()
MACHINE = STATE_MACHINE_ACCESS_KEY
BATCHES, CONTENT, IDEMPOTENCY = (f"unit-{name}" for name in ("BatchesTable", "ContentTable", "IdempotencyTable"))
KEY = {"pk": {"S": "BATCH#b-1"}, "sk": {"S": "META"}}
PUT = {"PutRequest": {"Item": KEY}}
KEY_ITEM = {"Item": KEY}
UPDATE = {"Key": KEY, "UpdateExpression": "SET #s = :s", "ExpressionAttributeValues": {":s": {"S": "done"}}}
EVENT = {"Source": "batchops", "DetailType": "Batch Completed", "Detail": "{}", "EventBusName": BUS}
REPORT_LINK = {"ClientMethod": "get_object", "Params": {"Bucket": BUCKET, "Key": "reports/b-1.json"}}


def _call(name: str, access_key: str, service: str, operation: str, **params: Any) -> Any:
    return pytest.param(access_key, service, operation, params, id=name)


# For each statement of template.yaml, a call it is there for, signed as the stack's callers sign it.
CALLS = [
    _call("api-updates-batch", "ApiFunction", "dynamodb", "update_item", TableName=BATCHES, **UPDATE),
    _call("api-lists-by-owner", "ApiFunction", "dynamodb", "query", TableName=BATCHES, IndexName="byOwner"),
    _call("api-creates-content", "ApiFunction", "dynamodb", "put_item", TableName=CONTENT, Item=KEY),
    _call("api-idempotency", "ApiFunction", "dynamodb", "delete_item", TableName=IDEMPOTENCY, Key=KEY),
    _call("api-starts", "ApiFunction", "stepfunctions", "start_execution", stateMachineArn=STATE_MACHINE_ARN),
    _call(
        "api-stops",
        "ApiFunction",
        "stepfunctions",
        "stop_execution",
        executionArn=arn("states", f"execution:{STATE_MACHINE_NAME}:b-1"),
    ),
    _call("api-links-report", "ApiFunction", "s3", "generate_presigned_url", **REPORT_LINK),
    _call("api-announces", "ApiFunction", "events", "put_events", Entries=[EVENT]),
    _call("api-stores-items", "ApiFunction", "s3", "put_object", Bucket=ITEMS_BUCKET, Key="batches/b/items.jsonl"),
    _call("prepare-reads", "PrepareBatchFunction", "s3", "get_object", Bucket=ITEMS_BUCKET, Key="uploads/u"),
    _call("prepare-plans", "PrepareBatchFunction", "dynamodb", "batch_write_item", RequestItems={BATCHES: [PUT]}),
    _call("item-changes", "ProcessChunkFunction", "dynamodb", "update_item", TableName=CONTENT, **UPDATE),
    _call("chunk-reads", "ProcessChunkFunction", "s3", "get_object", Bucket=ITEMS_BUCKET, Key="batches/b/items.jsonl"),
    _call(
        "chunk-records",
        "ProcessChunkFunction",
        "dynamodb",
        "transact_write_items",
        TransactItems=[{"Put": {"TableName": BATCHES, **KEY_ITEM}}, {"Update": {"TableName": BATCHES, **UPDATE}}],
    ),
    _call("finalizer-settles", "FinalizeBatchFunction", "dynamodb", "update_item", TableName=BATCHES, **UPDATE),
    _call("finalizer-reports", "FinalizeBatchFunction", "s3", "put_object", Bucket=BUCKET, Key="r/ü", Body=b"x"),
    _call("finalizer-announces", "FinalizeBatchFunction", "events", "put_events", Entries=[EVENT]),
    _call("finalizer-signs", "FinalizeBatchFunction", "secretsmanager", "get_secret_value", SecretId=SECRET_ARN),
    _call("notifier-reads", "NotifyBatchFunction", "dynamodb", "get_item", TableName=BATCHES, Key=KEY),
    _call("notifier-signs", "NotifyBatchFunction", "secretsmanager", "get_secret_value", SecretId=SECRET_ARN),
    *(
        _call(f"machine-invokes-{name}", MACHINE, "lambda", "invoke", FunctionName=function_arn(name))
        for name in ("PrepareBatchFunction", "ProcessChunkFunction", "FinalizeBatchFunction", "NotifyBatchFunction")
    ),
    _call("machine-marks", MACHINE, "dynamodb", "update_item", TableName=BATCHES, **UPDATE),
    _call("machine-reads-chunks", MACHINE, "s3", "get_object", Bucket=ITEMS_BUCKET, Key="batches/b/chunks-0.json"),
    _call("machine-runs-children", MACHINE, "stepfunctions", "start_execution", stateMachineArn=STATE_MACHINE_ARN),
]


def _without(principal: str, allowing: Iterable[Authorization]) -> Roles:
    """The template's roles, but `principal`'s without each statement that allows one of `allowing`."""

    def kept(name: str, statements: list[Statement]) -> list[Statement]:
        if name != principal:
            return statements
        return [s for s in statements if not any(is_allowed([s], action, res) for action, res in allowing)]

    return Roles(
        {name: kept(name, statements) for name, statements in ROLES.functions.items()},
        {name: kept(name, statements) for name, statements in ROLES.state_machines.items()},
    )


def _denied(environ: WSGIEnvironment, granted: Roles = ROLES) -> list[Call]:
    recorder = AccessRecorder()
    recorder.grant(granted)
    recorder.check(environ)
    return recorder.take_denied()


@pytest.mark.parametrize(("access_key", "service", "operation", "params"), CALLS)
def test_a_call_its_role_allows_is_not_reported(
    access_key: str, service: str, operation: str, params: dict[str, Any]
) -> None:
    assert _denied(signed(access_key, service, operation, **params)) == []


@pytest.mark.parametrize(("access_key", "service", "operation", "params"), CALLS)
def test_without_the_statement_that_allows_a_call_the_call_is_reported(
    access_key: str, service: str, operation: str, params: dict[str, Any]
) -> None:
    environ = signed(access_key, service, operation, **params)
    needed = authorized(environ)
    principal = "BatchStateMachine" if access_key == MACHINE else access_key
    assert _denied(environ, _without(principal, needed)) == [Call(principal, *call) for call in needed]


def test_a_refused_call_names_the_function_the_action_and_the_resource() -> None:
    environ = signed("ProcessChunkFunction", "events", "put_events", Entries=[EVENT])
    assert [str(call) for call in _denied(environ)] == [
        f"ProcessChunkFunction: events:PutEvents on {arn('events', f'event-bus/{BUS}')}"
    ]


def test_the_state_machine_is_checked_by_the_key_moto_signs_its_task_calls_with() -> None:
    elsewhere = arn("lambda", "function:someone-elses")
    environ = signed(MACHINE, "lambda", "invoke", FunctionName=elsewhere)
    assert _denied(environ) == [Call("BatchStateMachine", "lambda:InvokeFunction", elsewhere)]


def test_a_presigned_url_is_checked_as_a_call_of_the_function_that_signed_it() -> None:
    # S3WritePolicy lets the finalizer write reports, not read them.
    environ = signed("FinalizeBatchFunction", "s3", "generate_presigned_url", **REPORT_LINK)
    assert _denied(environ) == [
        Call("FinalizeBatchFunction", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/b-1.json")
    ]


def test_an_operation_the_recorder_cannot_map_is_reported_on_any_resource() -> None:
    environ = signed("ApiFunction", "dynamodb", "list_tables")
    assert _denied(environ) == [Call("ApiFunction", "dynamodb:ListTables", "*")]


def test_calls_signed_with_no_role_s_key_are_not_checked() -> None:
    assert _denied(signed("testing", "dynamodb", "delete_table", TableName=BATCHES)) == []


def test_the_body_is_read_for_the_check_and_left_for_moto() -> None:
    environ = signed("ProcessChunkFunction", "events", "put_events", Entries=[EVENT])
    sent = environ["wsgi.input"].read()
    environ["wsgi.input"] = io.BytesIO(sent)
    received: list[bytes] = []

    def moto(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        received.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        return []

    recorder = AccessRecorder()
    recorder.grant(ROLES)
    recorder.wrap(moto)(environ, lambda status, headers, exc_info=None: lambda data: None)
    assert received == [sent]
    assert recorder.denied() == [Call("ProcessChunkFunction", "events:PutEvents", arn("events", f"event-bus/{BUS}"))]


def test_refused_calls_are_kept_until_taken_and_taken_once() -> None:
    recorder = AccessRecorder()
    recorder.grant(ROLES)
    recorder.check(signed("ProcessChunkFunction", "events", "put_events", Entries=[EVENT]))
    assert len(recorder.denied()) == 1
    assert len(recorder.take_denied()) == 1
    assert recorder.denied() == recorder.take_denied() == []


def test_two_state_machines_cannot_be_told_apart_so_granting_them_is_refused() -> None:
    machine = ROLES.state_machines["BatchStateMachine"]
    with pytest.raises(ValueError, match="one state machine can be checked"):
        AccessRecorder().grant(Roles({}, {"One": machine, "Two": machine}))
