"""The event API Gateway's HTTP API hands a function: payload format 2.0, built from a request the way the HTTP
API builds it (text or base64 body, repeated query keys joined, the JWT authorizer's claims as strings)."""

import base64
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from local.deploy import ACCOUNT_ID

_TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-www-form-urlencoded")


def _claim_text(value: Any) -> str:
    # API Gateway hands claims to the function as strings; lists look like "[a b]".
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def payload_v2_event(
    route_key: str,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    source_ip: str,
    path_parameters: dict[str, str],
    claims: dict[str, Any] | None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    content_type = headers.get("content-type", "")
    is_text = (not body or any(content_type.startswith(t) for t in _TEXT_TYPES) or not content_type) and _is_utf8(body)
    query_parameters: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        # Repeated keys are joined with commas, as the HTTP API does.
        query_parameters[key] = f"{query_parameters[key]},{value}" if key in query_parameters else value
    authorizer = {"jwt": {"claims": {k: _claim_text(v) for k, v in claims.items()}, "scopes": None}} if claims else None
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if authorizer:
        event["requestContext"]["authorizer"] = authorizer
    if query_parameters:
        event["queryStringParameters"] = query_parameters
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
    return event
