"""Each owner's webhook signing secret: derived from the service's master key, rotated by a version number.

No secret is stored anywhere but the master key (in Secrets Manager): an owner's secret is
HMAC-SHA256(master, owner and version), so rotating is one atomic increment, effective for the very next
webhook, and one owner's secret says nothing about another's.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

SECRET_PREFIX = "whsec_"  # noqa: S105 - a label that tells what the value is, not a secret


class SecretVersions(Protocol):
    def current_version(self, owner: str) -> int:
        """The owner's secret version; 0 until the first rotation."""

    def next_version(self, owner: str) -> int:
        """Move the owner to a new version, atomically; returns it."""


def derive_secret(master: bytes, owner: str, version: int) -> str:
    digest = hmac.new(master, f"webhook-secret\n{owner}\n{version}".encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class WebhookSecrets:
    master: Callable[[], bytes]
    versions: SecretVersions

    def current(self, owner: str) -> str:
        return derive_secret(self.master(), owner, self.versions.current_version(owner))

    def rotate(self, owner: str) -> str:
        """A new secret for the owner; the old one signs nothing from now on."""
        return derive_secret(self.master(), owner, self.versions.next_version(owner))
