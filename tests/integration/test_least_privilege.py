"""The stack holds each AWS call of a function or the state machine against the role SAM generates for it
from template.yaml. These calls are signed as the functions' invocations sign theirs, but made directly."""

import urllib.request
from typing import Any

import boto3
from botocore.config import Config

from local.deploy import ACCOUNT_ID
from local.stack import OfflineStack


def _client(stack: OfflineStack, service: str, access_key: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.aws_endpoint,
        region_name=stack.config.region,
        aws_access_key_id=access_key,
        aws_secret_access_key="secret",
        config=Config(signature_version="s3v4"),
    )


def test_a_call_the_role_refuses_is_reported_naming_function_action_and_resource(stack: OfflineStack) -> None:
    table = stack.output("ContentTableName")
    _client(stack, "dynamodb", "NotifyBatchFunction").get_item(TableName=table, Key={"contentId": {"S": "none"}})
    table_arn = f"arn:aws:dynamodb:{stack.config.region}:{ACCOUNT_ID}:table/{table}"
    assert [str(call) for call in stack.access.take_denied()] == [
        f"NotifyBatchFunction: dynamodb:GetItem on {table_arn}"
    ]


def test_calls_the_roles_allow_are_not_reported(stack: OfflineStack) -> None:
    batches, bucket = stack.output("BatchesTableName"), stack.output("ReportsBucketName")
    _client(stack, "dynamodb", "NotifyBatchFunction").get_item(
        TableName=batches, Key={"pk": {"S": "BATCH#none"}, "sk": {"S": "META"}}
    )
    stack.client("s3").put_object(Bucket=bucket, Key="reports/least-privilege.json", Body=b"{}")
    link = _client(stack, "s3", "ApiFunction").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "reports/least-privilege.json"}
    )
    with urllib.request.urlopen(link) as reply:  # noqa: S310 - the stack's own http endpoint
        assert reply.read() == b"{}"
    assert stack.access.denied() == []
