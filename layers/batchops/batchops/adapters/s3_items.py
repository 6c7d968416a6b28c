"""ItemStore over the items bucket: manifests (uploads and batches' own copies) and the chunk lists Maps read."""

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import Any

from botocore.exceptions import ClientError

from batchops.adapters.aws_errors import aws_errors, error_code
from batchops.domain.chunks import Chunk
from batchops.domain.errors import BatchStoppedError
from batchops.domain.models import ItemSource, ManifestFormat

# Bytes read per request while streaming a manifest.
_READ_SIZE = 1024 * 1024
# Bytes per part when a manifest is written in parts (S3 takes 5 MiB at least, but for the last).
_PART_BYTES = 8 * 1024 * 1024


def batch_manifest_key(batch_id: str, fmt: ManifestFormat) -> str:
    return f"batches/{batch_id}/items.{fmt.value}"


def upload_key(upload_id: str) -> str:
    return f"uploads/{upload_id}"


class S3ItemStore:
    def __init__(self, bucket: str, client: Any) -> None:
        self._bucket = bucket
        self._s3 = client

    def put_items(self, batch_id: str, lines: Iterable[bytes]) -> ItemSource:
        # Inline items are at most 10,000 (a 10 MB request): one object, written at once.
        key = batch_manifest_key(batch_id, ManifestFormat.JSONL)
        with aws_errors("storing the items of a batch"):
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=b"".join(lines), ContentType="application/x-ndjson")
        return ItemSource(key, ManifestFormat.JSONL)

    def adopt(self, batch_id: str, source: ItemSource) -> ItemSource:
        key = batch_manifest_key(batch_id, source.format)
        if source.key == key:
            return source
        with aws_errors("copying an upload to its batch"):
            # Server-side, up to 5 GB in one request (uploads hold at most 512 MiB).
            self._s3.copy_object(Bucket=self._bucket, Key=key, CopySource={"Bucket": self._bucket, "Key": source.key})
        return ItemSource(key, source.format, source.upload_id, source.columns)

    def lines(self, source: ItemSource, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        request: dict[str, Any] = {"Bucket": self._bucket, "Key": source.key}
        if start or end is not None:
            if end is not None and end <= start:
                return
            request["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        with aws_errors("reading a manifest"):
            body = self._s3.get_object(**request)["Body"]
            rest = b""
            for block in body.iter_chunks(_READ_SIZE):
                lines = (rest + block).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    yield line + b"\n"
            if rest:
                yield rest

    def put_chunk_list(self, batch_id: str, run: int, chunks: Sequence[Chunk]) -> str:
        key = f"batches/{batch_id}/chunks-{run}.json"
        # What the Map's ItemReader hands each child: a chunk's number, nothing of its items.
        body = json.dumps([{"number": c.number} for c in chunks], separators=(",", ":")).encode()
        with aws_errors("storing the chunk list of a batch"):
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/json")
        return key

    def put_public_manifest(self, batch_id: str, lines: Iterable[bytes]) -> ItemSource:
        key = f"batches/{batch_id}/items.public.jsonl"
        parts = _parts(lines)
        first, second = next(parts, b""), next(parts, None)
        with aws_errors("storing the public manifest of a batch"):
            if second is None:
                self._s3.put_object(Bucket=self._bucket, Key=key, Body=first, ContentType="application/x-ndjson")
            else:
                self._multipart(key, chain([first, second], parts))
        return ItemSource(key, ManifestFormat.JSONL, secrets_apart=True)

    def _multipart(self, key: str, parts: Iterable[bytes]) -> None:
        upload = self._s3.create_multipart_upload(Bucket=self._bucket, Key=key, ContentType="application/x-ndjson")
        try:
            done = [
                {
                    "PartNumber": n,
                    "ETag": self._s3.upload_part(
                        Bucket=self._bucket, Key=key, UploadId=upload["UploadId"], PartNumber=n, Body=part
                    )["ETag"],
                }
                for n, part in enumerate(parts, start=1)
            ]
            self._s3.complete_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": done}
            )
        except BaseException:
            # No part of an unfinished upload is left to be billed (or read).
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload["UploadId"])
            raise

    def put_secrets(self, batch_id: str, chunk: int, values: Sequence[Mapping[str, Any]]) -> None:
        body = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
        with aws_errors("storing the secrets of a chunk"):
            self._s3.put_object(
                Bucket=self._bucket, Key=_secrets_key(batch_id, chunk), Body=body, ContentType="application/json"
            )

    def secrets(self, batch_id: str, chunk: int) -> list[dict[str, Any]]:
        with aws_errors("reading the secrets of a chunk"):
            try:
                body = self._s3.get_object(Bucket=self._bucket, Key=_secrets_key(batch_id, chunk))["Body"].read()
            except ClientError as e:
                if error_code(e) != "NoSuchKey":
                    raise
                raise BatchStoppedError(f"the secrets of batch {batch_id} are deleted: it is final") from e
        values: list[dict[str, Any]] = json.loads(body)
        return values

    def delete_manifest(self, source: ItemSource) -> None:
        with aws_errors("deleting a manifest"):
            self._s3.delete_object(Bucket=self._bucket, Key=source.key)

    def delete_secrets(self, batch_id: str) -> None:
        prefix = _secrets_key(batch_id, 0).rsplit("/", 1)[0] + "/"
        with aws_errors("deleting the secrets of a batch"):
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
            for page in pages:
                # A page holds at most 1,000 keys: what one DeleteObjects takes.
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True})


def _secrets_key(batch_id: str, chunk: int) -> str:
    return f"batches/{batch_id}/secrets/{chunk}.json"


def _parts(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Lines joined into blocks of at least S3's smallest multipart part (the last may be smaller)."""
    block: list[bytes] = []
    size = 0
    for line in lines:
        block.append(line)
        size += len(line)
        if size >= _PART_BYTES:
            yield b"".join(block)
            block, size = [], 0
    if block:
        yield b"".join(block)
