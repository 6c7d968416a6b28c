"""ItemStore over the items bucket: manifests (uploads and batches' own copies) and the chunk lists Maps read."""

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import boto3
from botocore.config import Config

from batchops.adapters.aws_errors import aws_errors
from batchops.domain.chunks import Chunk
from batchops.domain.models import ItemSource, ManifestFormat

# Bytes read per request while streaming a manifest.
_READ_SIZE = 1024 * 1024


def batch_manifest_key(batch_id: str, fmt: ManifestFormat) -> str:
    return f"batches/{batch_id}/items.{fmt.value}"


def upload_key(upload_id: str) -> str:
    return f"uploads/{upload_id}"


class S3ItemStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._s3 = client or boto3.client("s3", config=Config(signature_version="s3v4"))

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
