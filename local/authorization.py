"""What IAM authorizes an AWS request as: who signed it, and each (action, resource) it needs allowed.

Only the services and operations our code and state machine use are named; any other operation is given
the resource "*" (or, when even its action cannot be named, a descriptive action), so that no policy
written for our resources allows it: an unknown call fails the check instead of slipping through."""

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote
from wsgiref.types import WSGIEnvironment

from local.deploy import ACCOUNT_ID

Authorization = tuple[str, str]  # (IAM action, resource ARN)
UNKNOWN_RESOURCE = "*"

# SigV4: the credential scope is ACCESS_KEY/DATE/REGION/SERVICE/aws4_request, in the Authorization header
# or, for a presigned URL, in the X-Amz-Credential query parameter.
_SCOPE = re.compile(r"(?P<key>[^/\s,]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
_HEADER_SCOPE = re.compile(r"AWS4-HMAC-SHA256\s+Credential=" + _SCOPE.pattern)
# Services whose operations are told by method and path alone: their bodies are never read.
_REST = {"s3", "lambda"}
_DELETE_KEY = re.compile(r"<Key>([^<]*)</Key>")
_LAMBDA_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations$")

# S3 query parameters that only shape a request; any other names what it does (a "subresource").
_S3_SHAPING = {
    "list-type",
    "prefix",
    "delimiter",
    "max-keys",
    "continuation-token",
    "start-after",
    "encoding-type",
    "fetch-owner",
    "marker",
    "partNumber",
    "x-id",
}
# (method, subresource) of requests on an object and on a bucket; multipart uploads authorize as PutObject.
_S3_OBJECT = {
    ("GET", ""): "GetObject",
    ("HEAD", ""): "GetObject",
    ("PUT", ""): "PutObject",
    ("DELETE", ""): "DeleteObject",
    ("GET", "tagging"): "GetObjectTagging",
    ("PUT", "tagging"): "PutObjectTagging",
    ("POST", "uploads"): "PutObject",
    ("PUT", "uploadId"): "PutObject",
    ("POST", "uploadId"): "PutObject",
    ("DELETE", "uploadId"): "AbortMultipartUpload",
    ("GET", "uploadId"): "ListMultipartUploadParts",
}
_S3_BUCKET = {
    ("GET", ""): "ListBucket",
    ("HEAD", ""): "ListBucket",
    ("GET", "uploads"): "ListBucketMultipartUploads",
    ("GET", "versions"): "ListBucketVersions",
}


@dataclass(frozen=True)
class Signer:
    """The SigV4 credential scope of a request."""

    access_key: str
    region: str
    service: str  # the signing name, which is the IAM prefix for every service we use

    def arn(self, resource: str) -> str:
        return f"arn:aws:{self.service}:{self.region}:{ACCOUNT_ID}:{resource}"


def signer(environ: WSGIEnvironment) -> Signer | None:
    """Who signed the request, or None for a request not signed with SigV4 (so by no role of ours)."""
    header = _HEADER_SCOPE.match(environ.get("HTTP_AUTHORIZATION", ""))
    if header is None:
        credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]
        header = _SCOPE.fullmatch(credential)
    if header is None:
        return None
    return Signer(header["key"], header["region"], header["service"])


def needs_body(environ: WSGIEnvironment, who: Signer) -> bool:
    """Whether the operation is told by the body (JSON and query protocols), not by method and path (REST)."""
    if who.service in _REST:
        return who.service == "s3" and _is_multi_delete(environ)
    content_type = environ.get("CONTENT_TYPE", "")
    return "HTTP_X_AMZ_TARGET" in environ or content_type.startswith("application/x-www-form-urlencoded")


def authorizations(environ: WSGIEnvironment, who: Signer, body: bytes) -> list[Authorization]:
    """Each (action, resource) IAM authorizes the request as; `body` is read only when needs_body()."""
    # PEP 3333: PATH_INFO is the URL-decoded path's bytes, as latin-1; S3 keys and names are UTF-8.
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/").encode("latin-1").decode()
    if who.service == "s3":
        return _s3_deletes(path, body) if _is_multi_delete(environ) else _s3(environ, method, path)
    invoke = _LAMBDA_INVOKE.match(path)
    if who.service == "lambda" and method == "POST" and invoke:
        return [("lambda:InvokeFunction", _lambda_arn(invoke["function"], environ, who))]
    if not needs_body(environ, who):
        return [(f"{who.service}:{method} {path}", UNKNOWN_RESOURCE)]
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target is None:
        # Query protocol (STS, IAM, ...): the operation is the Action field; none of our code uses one.
        action = parse_qs(body.decode()).get("Action", ["?"])[0]
        return [(f"{who.service}:{action}", UNKNOWN_RESOURCE)]
    operation = target.rsplit(".", 1)[-1]
    payload = json.loads(body or b"{}")
    if who.service == "dynamodb" and "TransactItems" in payload:
        # IAM has no transaction actions: each part is authorized as the operation it stands for.
        return [
            (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table_arn(request["TableName"], who))
            for part in payload["TransactItems"]
            for kind, request in part.items()
        ]
    resources = _JSON_RESOURCES.get(who.service, _unknown)(operation, payload, who)
    return [(f"{who.service}:{operation}", resource) for resource in resources]


def _unknown(operation: str, payload: Mapping[str, Any], who: Signer) -> list[str]:
    return [UNKNOWN_RESOURCE]


_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "Get": "GetItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _table_arn(name: str, who: Signer) -> str:
    # TableName may be the table's ARN as well as its name.
    return name if name.startswith("arn:") else who.arn(f"table/{name}")


def _dynamodb(operation: str, payload: Mapping[str, Any], who: Signer) -> list[str]:
    def table(name: str) -> str:
        return _table_arn(name, who)

    if "TableName" in payload:
        arn = table(payload["TableName"])
        if operation in ("Query", "Scan") and "IndexName" in payload:
            arn = f"{arn}/index/{payload['IndexName']}"
        return [arn]
    if "RequestItems" in payload:  # BatchGetItem, BatchWriteItem
        return [table(name) for name in payload["RequestItems"]]
    return [UNKNOWN_RESOURCE]


def _states(operation: str, payload: Mapping[str, Any], who: Signer) -> list[str]:
    # Execution operations are authorized on the execution, the others on the state machine.
    arn = payload.get("executionArn") or payload.get("stateMachineArn")
    return [arn or UNKNOWN_RESOURCE]


def _events(operation: str, payload: Mapping[str, Any], who: Signer) -> list[str]:
    if operation != "PutEvents":
        return [UNKNOWN_RESOURCE]
    buses = (entry.get("EventBusName") or "default" for entry in payload.get("Entries", []))
    return [bus if bus.startswith("arn:") else who.arn(f"event-bus/{bus}") for bus in buses]


def _secretsmanager(operation: str, payload: Mapping[str, Any], who: Signer) -> list[str]:
    # A secret's ARN ends in a random suffix that its name alone does not tell: only an ARN is a resource.
    secret = str(payload.get("SecretId", ""))
    return [secret if secret.startswith("arn:") else UNKNOWN_RESOURCE]


_JSON_RESOURCES: dict[str, Callable[[str, Mapping[str, Any], Signer], list[str]]] = {
    "dynamodb": _dynamodb,
    "states": _states,
    "events": _events,
    "secretsmanager": _secretsmanager,
}


def _lambda_arn(function: str, environ: WSGIEnvironment, who: Signer) -> str:
    # FunctionName is the function's name or its ARN (moto's state machine interpreter passes the ARN).
    arn = function if function.startswith("arn:") else who.arn(f"function:{function}")
    qualifier = parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier")
    return f"{arn}:{qualifier[0]}" if qualifier else arn


def _is_multi_delete(environ: WSGIEnvironment) -> bool:
    """S3's DeleteObjects (POST /BUCKET?delete): the keys are in the body, each authorized as DeleteObject."""
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return environ["REQUEST_METHOD"] == "POST" and "delete" in query


def _s3_deletes(path: str, body: bytes) -> list[Authorization]:
    bucket = path.lstrip("/").partition("/")[0]
    # The <Key> elements of <Delete>, read without an XML parser (the body is a caller's, not to be trusted).
    keys = [html.unescape(key) for key in _DELETE_KEY.findall(body.decode(errors="replace"))]
    return [("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{key}") for key in keys] or [
        ("s3:DeleteObjects with no key", UNKNOWN_RESOURCE)
    ]


def _s3(environ: WSGIEnvironment, method: str, path: str) -> list[Authorization]:
    # Path-style addressing (/BUCKET/KEY): the only one an endpoint at an IP address can receive.
    bucket, _, key = path.lstrip("/").partition("/")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    # Presigned URLs' X-Amz-* and response-* (override headers) parameters only shape a request too.
    subresource = ",".join(
        name for name in query if name not in _S3_SHAPING and not name.lower().startswith(("x-amz-", "response-"))
    )
    if not bucket:
        found = [("s3:ListAllMyBuckets", UNKNOWN_RESOURCE)] if (method, subresource) == ("GET", "") else []
    elif key:
        action = _S3_OBJECT.get((method, subresource))
        found = [(f"s3:{action}", f"arn:aws:s3:::{bucket}/{key}")] if action else []
        copy_source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
        if action == "PutObject" and copy_source:
            found.append(("s3:GetObject", f"arn:aws:s3:::{unquote(copy_source).lstrip('/').split('?')[0]}"))
    else:
        action = _S3_BUCKET.get((method, subresource))
        found = [(f"s3:{action}", f"arn:aws:s3:::{bucket}")] if action else []
    return found or [(f"s3:{method} {path}?{environ.get('QUERY_STRING', '')}", UNKNOWN_RESOURCE)]
