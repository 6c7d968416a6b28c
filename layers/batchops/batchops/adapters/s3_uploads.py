"""Uploads over the batches table (who owns an upload, whether a batch took it) and the items bucket
(presigned PUTs into `uploads/`)."""

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from batchops.adapters.aws_errors import aws_errors, error_code
from batchops.adapters.dynamo_codec import from_item, to_attr, to_item, update_if
from batchops.adapters.s3_items import upload_key
from batchops.domain.errors import FieldProblem, InvalidRequestError, UploadNotFoundError, UploadUsedError
from batchops.domain.manifests import MAX_BYTES
from batchops.domain.models import ItemSource, ManifestFormat
from batchops.domain.ports import UploadTicket

# How long the presigned PUT is good for.
URL_LIFETIME = timedelta(minutes=15)
# An upload no batch took is forgotten (its record by TTL, its object by the bucket's lifecycle).
_UPLOAD_LIFETIME = timedelta(days=2)


_CONTENT_TYPES = {ManifestFormat.JSONL: "application/x-ndjson", ManifestFormat.CSV: "text/csv"}


def _key(upload_id: str) -> dict[str, Any]:
    return {"pk": to_attr(f"UPLOAD#{upload_id}"), "sk": to_attr("META")}


class S3Uploads:
    def __init__(self, table_name: str, bucket: str, dynamodb: Any, s3: Any) -> None:
        self._table, self._bucket = table_name, bucket
        self._db = dynamodb
        self._s3 = s3

    def create(self, owner: str, upload_id: str, fmt: ManifestFormat, now: datetime) -> UploadTicket:
        record = {
            "pk": f"UPLOAD#{upload_id}",
            "sk": "META",
            "owner": owner,
            "format": fmt.value,
            "createdAt": now,
            "expiresAt": int((now + _UPLOAD_LIFETIME).timestamp()),
        }
        with aws_errors("creating an upload"):
            self._db.put_item(
                TableName=self._table, Item=to_item(record), ConditionExpression="attribute_not_exists(pk)"
            )
            url: str = self._s3.generate_presigned_url(
                "put_object",
                Params={"Bucket": self._bucket, "Key": upload_key(upload_id)},
                ExpiresIn=int(URL_LIFETIME.total_seconds()),
            )
        # Not signed, so `curl -T file "$url"` works as well; sent, it labels the object (and keeps HTTP clients
        # that default to a form type from having the body read as a form on the way).
        headers = {"Content-Type": _CONTENT_TYPES[fmt]}
        return UploadTicket(upload_id, url, headers, now + URL_LIFETIME, MAX_BYTES)

    def claim(self, owner: str, upload_id: str, batch_id: str) -> ItemSource:
        with aws_errors("reading an upload"):
            reply = self._db.get_item(TableName=self._table, Key=_key(upload_id), ConsistentRead=True)
        record = from_item(reply["Item"]) if "Item" in reply else None
        if record is None or record["owner"] != owner:
            # Another owner's upload is reported exactly like a missing one.
            raise UploadNotFoundError(upload_id)
        if record.get("usedBy"):
            raise UploadUsedError(f"upload {upload_id} was already used by batch {record['usedBy']}")
        size = self._size(upload_id)
        if size is None:
            raise InvalidRequestError([FieldProblem("source.uploadId", "nothing was uploaded to its URL yet")])
        if size > MAX_BYTES:
            message = f"the upload is larger than {MAX_BYTES // (1024 * 1024)} MiB"
            raise InvalidRequestError([FieldProblem("source.uploadId", message)])
        taken = update_if(
            self._db,
            self._table,
            "claiming an upload",
            Key=_key(upload_id),
            UpdateExpression="SET usedBy = :batch REMOVE expiresAt",
            ConditionExpression="attribute_not_exists(usedBy)",
            ExpressionAttributeValues={":batch": to_attr(batch_id)},
        )
        if not taken:
            raise UploadUsedError(f"upload {upload_id} was already used by another batch")
        return ItemSource(upload_key(upload_id), ManifestFormat(record["format"]), upload_id)

    def release(self, upload_id: str, batch_id: str) -> None:
        update_if(
            self._db,
            self._table,
            "releasing an upload",
            Key=_key(upload_id),
            UpdateExpression="REMOVE usedBy",
            ConditionExpression="usedBy = :batch",
            ExpressionAttributeValues={":batch": to_attr(batch_id)},
        )

    def _size(self, upload_id: str) -> int | None:
        with aws_errors("reading an upload"):
            try:
                head = self._s3.head_object(Bucket=self._bucket, Key=upload_key(upload_id))
            except ClientError as e:
                if error_code(e) in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise
        return int(head["ContentLength"])
