"""What the world is told when a batch reaches a final status: the same JSON for events and webhooks."""

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from batchops.domain.models import Batch, BatchStatus
from batchops.domain.ports import BatchRepository, Clock, WebhookSender
from batchops.domain.webhook_secrets import WebhookSecrets

DETAIL_TYPES = {
    BatchStatus.COMPLETED: "Batch Completed",
    BatchStatus.FAILED: "Batch Failed",
    BatchStatus.CANCELLED: "Batch Cancelled",
}
SIGNATURE_HEADER = "X-Batchops-Signature"


def notification(batch: Batch) -> dict[str, Any]:
    """Ids, status and counts only: no item bodies, params or other personal data."""
    counts = batch.counts
    return {
        "batchId": batch.batch_id,
        "owner": batch.owner,
        "operation": batch.operation,
        "status": batch.status.value,
        "totalItems": batch.total_items,
        "succeededItems": counts.succeeded,
        "failedItems": counts.failed,
        "skippedItems": counts.skipped,
        "cancelledItems": counts.cancelled,
        "error": {"code": batch.error.code, "message": batch.error.message} if batch.error else None,
    }


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """X-Batchops-Signature: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

    The time is signed with the body, so a receiver can refuse old deliveries (replays)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True)
class CallbackNotifier:
    """POSTs a final batch's notification to its callbackUrl, signed with its owner's secret."""

    repo: BatchRepository
    sender: WebhookSender
    secrets: WebhookSecrets
    clock: Clock

    def notify(self, batch_id: str) -> bool:
        """True when a callback was delivered now; False when there is none to deliver (no callbackUrl,
        not final yet, or delivered before: the state machine and the safety net may both ask)."""
        batch = self.repo.get(batch_id)
        if batch is None or not batch.is_final or not batch.options.callback_url or batch.notified:
            return False
        body = json.dumps(notification(batch), separators=(",", ":")).encode()
        # Read at every delivery: a rotated secret signs the very next webhook.
        secret = self.secrets.current(batch.owner)
        timestamp = int(self.clock.now().timestamp())
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, timestamp, body)}
        self.sender.post(batch.options.callback_url, body, headers)
        self.repo.mark_notified(batch_id)
        return True
