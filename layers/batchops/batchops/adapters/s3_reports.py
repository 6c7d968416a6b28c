"""ReportStore over an S3 bucket: one object per report, downloaded through presigned URLs."""

from collections.abc import Iterable, Mapping
from typing import Any

from batchops.adapters.aws_errors import aws_errors
from batchops.domain.reports import REPORTS, ReportFormat, ReportKey, ReportScope

# S3 multipart parts are at least 5 MiB; a report smaller than one part is written with one PutObject.
_PART_SIZE = 8 * 1024 * 1024

_CONTENT_TYPES = {ReportFormat.CSV: "text/csv; charset=utf-8", ReportFormat.JSONL: "application/x-ndjson"}


def _key(batch_id: str, scope: ReportScope, fmt: ReportFormat) -> str:
    return f"reports/{batch_id}/{scope.value}.{fmt.value}"


class S3ReportStore:
    def __init__(self, bucket: str, client: Any) -> None:
        self._bucket = bucket
        self._s3 = client

    def put_all(self, batch_id: str, pieces: Iterable[Mapping[ReportKey, bytes]]) -> None:
        uploads = {
            report: _Upload(self._s3, self._bucket, _key(batch_id, *report), _CONTENT_TYPES[report[1]])
            for report in REPORTS
        }
        with aws_errors("storing a report"):
            try:
                for piece in pieces:
                    for report, data in piece.items():
                        uploads[report].append(data)
                for upload in uploads.values():
                    upload.complete()
            except BaseException:
                for upload in uploads.values():
                    upload.abort()
                raise

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


class _Upload:
    """One report written as it is rendered: in parts of 8 MiB, so memory holds one part, not the report."""

    def __init__(self, s3: Any, bucket: str, key: str, content_type: str) -> None:
        self._s3, self._bucket, self._key, self._type = s3, bucket, key, content_type
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def append(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= _PART_SIZE:
            self._send_part()

    def complete(self) -> None:
        if self._upload_id is None:
            self._s3.put_object(Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer), ContentType=self._type)
            return
        if self._buffer:
            self._send_part()
        self._s3.complete_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )

    def abort(self) -> None:
        if self._upload_id is not None:
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)

    def _send_part(self) -> None:
        if self._upload_id is None:
            started = self._s3.create_multipart_upload(Bucket=self._bucket, Key=self._key, ContentType=self._type)
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        reply = self._s3.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=bytes(self._buffer)
        )
        self._parts.append({"PartNumber": number, "ETag": reply["ETag"]})
        self._buffer = bytearray()
