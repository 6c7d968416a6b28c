"""Requests exactly as boto3 signs and sends them, stopped before they leave the process (no network)."""

import io
from typing import Any
from wsgiref.types import WSGIEnvironment

import boto3
import pytest
from botocore.config import Config
from werkzeug.test import EnvironBuilder

from local.authorization import Authorization, authorizations, signer
from tests.unit.deployed_roles import REGION


class _StoppedError(Exception):
    """Raised where botocore would send the request: it carries the signed request instead."""

    def __init__(self, request: Any) -> None:
        self.request = request


def signed(access_key: str, service: str, operation: str, **params: Any) -> WSGIEnvironment:
    """The WSGI environment moto would get for `operation` of a boto3 client whose access key id is `access_key`.

    "generate_presigned_url" stands for the GET of the URL the client signs: whoever holds it makes the request."""
    client = boto3.client(
        service,
        endpoint_url="http://127.0.0.1:9",
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key="secret",
        # As the reports adapter signs (SigV4 presigned URLs).
        config=Config(signature_version="s3v4") if service == "s3" else None,
    )
    if operation == "generate_presigned_url":
        return EnvironBuilder(path=client.generate_presigned_url(**params), method="GET").get_environ()

    def stop(request: Any, **_: Any) -> None:
        raise _StoppedError(request)

    client.meta.events.register("before-send", stop)
    with pytest.raises(_StoppedError) as stopped:
        getattr(client, operation)(**params)
    request = stopped.value.request
    body = request.body
    data = body.read() if hasattr(body, "read") else body.encode() if isinstance(body, str) else body or b""
    headers = {name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()}
    return EnvironBuilder(path=request.url, method=request.method, headers=headers, data=data).get_environ()


def authorized(environ: WSGIEnvironment) -> list[Authorization]:
    """What the request is authorized as; its body is left in place."""
    who = signer(environ)
    assert who is not None
    body: bytes = environ["wsgi.input"].read()
    environ["wsgi.input"] = io.BytesIO(body)
    return authorizations(environ, who, body)
