"""Uploads: manifests a client puts straight into the stack's bucket, for batches too big for one request."""

from dataclasses import dataclass

from batchops.domain.models import ManifestFormat
from batchops.domain.ports import Clock, IdGenerator, Uploads, UploadTicket


@dataclass(frozen=True)
class UploadService:
    uploads: Uploads
    clock: Clock
    ids: IdGenerator

    def create(self, owner: str, fmt: ManifestFormat) -> UploadTicket:
        return self.uploads.create(owner, self.ids.new_id(), fmt, self.clock.now())
