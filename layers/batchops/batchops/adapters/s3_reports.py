"""ReportStore over an S3 bucket: one object per report, downloaded through presigned URLs."""

from typing import Any

import boto3
from botocore.config import Config

from batchops.adapters.aws_errors import aws_errors
from batchops.domain.reports import ReportFormat, ReportScope

_CONTENT_TYPES = {ReportFormat.CSV: "text/csv; charset=utf-8", ReportFormat.JSONL: "application/x-ndjson"}


def _key(batch_id: str, scope: ReportScope, fmt: ReportFormat) -> str:
    return f"reports/{batch_id}/{scope.value}.{fmt.value}"


class S3ReportStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        # SigV4 links work in every region (SigV2 ones do not).
        self._s3 = client or boto3.client("s3", config=Config(signature_version="s3v4"))

    def put(self, batch_id: str, scope: ReportScope, fmt: ReportFormat, body: bytes) -> None:
        with aws_errors("storing a report"):
            self._s3.put_object(
                Bucket=self._bucket, Key=_key(batch_id, scope, fmt), Body=body, ContentType=_CONTENT_TYPES[fmt]
            )

    def link(self, batch_id: str, scope: ReportScope, fmt: ReportFormat, expires_in_seconds: int) -> str:
        filename = f"batch-{batch_id}-{scope.value}.{fmt.value}"
        params = {
            "Bucket": self._bucket,
            "Key": _key(batch_id, scope, fmt),
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        }
        with aws_errors("signing a report link"):
            url: str = self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in_seconds)
        return url
