"""Requests as IAM authorizes them: the signer, the action and each resource, or any resource ("*")."""

from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from local.authorization import Authorization, Signer, signer
from tests.unit.deployed_roles import BUCKET, REGION, arn, table_arn
from tests.unit.signed_requests import authorized, signed

KEY = {"pk": {"S": "BATCH#b-1"}, "sk": {"S": "META"}}
EVENT = {"Source": "batchops", "DetailType": "Batch Completed", "Detail": "{}"}


def test_the_signer_is_read_from_the_authorization_header_or_a_presigned_url() -> None:
    assert signer(signed("ApiFunction", "dynamodb", "get_item", TableName="t", Key=KEY)) == Signer(
        "ApiFunction", REGION, "dynamodb"
    )
    presigned = signed(
        "ApiFunction", "s3", "generate_presigned_url", ClientMethod="get_object", Params={"Bucket": "b", "Key": "k"}
    )
    assert signer(presigned) == Signer("ApiFunction", REGION, "s3")
    assert signer(EnvironBuilder(path="/moto-api/", method="GET").get_environ()) is None


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        (
            "dynamodb",
            "get_item",
            {"TableName": "unit-BatchesTable", "Key": KEY},
            [("dynamodb:GetItem", table_arn("BatchesTable"))],
        ),
        (
            "dynamodb",
            "get_item",
            {"TableName": table_arn("BatchesTable"), "Key": KEY},
            [("dynamodb:GetItem", table_arn("BatchesTable"))],
        ),
        (
            "dynamodb",
            "query",
            {"TableName": "unit-BatchesTable", "IndexName": "byOwner", "KeyConditionExpression": "a = :a"},
            [("dynamodb:Query", f"{table_arn('BatchesTable')}/index/byOwner")],
        ),
        (
            "dynamodb",
            "batch_write_item",
            {
                "RequestItems": {
                    name: [{"DeleteRequest": {"Key": KEY}}] for name in ("unit-BatchesTable", "unit-ContentTable")
                }
            },
            [
                ("dynamodb:BatchWriteItem", table_arn("BatchesTable")),
                ("dynamodb:BatchWriteItem", table_arn("ContentTable")),
            ],
        ),
        (
            "dynamodb",
            "transact_write_items",
            {
                "TransactItems": [
                    {"Put": {"TableName": "unit-ContentTable", "Item": KEY}},
                    {"Update": {"TableName": "unit-BatchesTable", "Key": KEY, "UpdateExpression": "REMOVE a"}},
                ]
            },
            # IAM authorizes each part of a transaction as the operation it stands for.
            [
                ("dynamodb:PutItem", table_arn("ContentTable")),
                ("dynamodb:UpdateItem", table_arn("BatchesTable")),
            ],
        ),
        ("dynamodb", "list_tables", {}, [("dynamodb:ListTables", "*")]),
        (
            "stepfunctions",
            "describe_execution",
            {"executionArn": arn("states", "execution:m:b")},
            [("states:DescribeExecution", arn("states", "execution:m:b"))],
        ),
        (
            "events",
            "put_events",
            {"Entries": [EVENT, {**EVENT, "EventBusName": "batches"}]},
            [
                ("events:PutEvents", arn("events", "event-bus/default")),
                ("events:PutEvents", arn("events", "event-bus/batches")),
            ],
        ),
        ("secretsmanager", "get_secret_value", {"SecretId": "by-name"}, [("secretsmanager:GetSecretValue", "*")]),
        (
            "lambda",
            "invoke",
            {"FunctionName": "fn", "Qualifier": "live"},
            [("lambda:InvokeFunction", arn("lambda", "function:fn:live"))],
        ),
        ("lambda", "list_functions", {}, [("lambda:GET /2015-03-31/functions", "*")]),
        (
            "s3",
            "get_object",
            {"Bucket": BUCKET, "Key": "reports/é b.json"},
            [("s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/é b.json")],
        ),
        (
            "s3",
            "list_objects_v2",
            {"Bucket": BUCKET, "Prefix": "reports/"},
            [("s3:ListBucket", f"arn:aws:s3:::{BUCKET}")],
        ),
        (
            "s3",
            "copy_object",
            {"Bucket": BUCKET, "Key": "to", "CopySource": {"Bucket": "other", "Key": "from é"}},
            [("s3:PutObject", f"arn:aws:s3:::{BUCKET}/to"), ("s3:GetObject", "arn:aws:s3:::other/from é")],
        ),
        (
            "s3",
            "delete_objects",
            {"Bucket": BUCKET, "Delete": {"Objects": [{"Key": "batches/b/secrets/0.json"}, {"Key": "a&b <c>"}]}},
            # IAM authorizes a multi-object delete as DeleteObject on each key it names.
            [
                ("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/batches/b/secrets/0.json"),
                ("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/a&b <c>"),
            ],
        ),
        ("s3", "get_object_acl", {"Bucket": BUCKET, "Key": "k"}, [(f"s3:GET /{BUCKET}/k?acl", "*")]),
        ("sts", "get_caller_identity", {}, [("sts:GetCallerIdentity", "*")]),
    ],
)
def test_a_request_is_authorized_as_its_iam_action_on_each_resource_it_names_else_on_any(
    service: str, operation: str, params: dict[str, Any], expected: list[Authorization]
) -> None:
    assert authorized(signed("ApiFunction", service, operation, **params)) == expected
