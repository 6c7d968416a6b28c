"""Clock and id generation from the standard library."""

import time
import uuid
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic_ms(self) -> float:
        return time.monotonic() * 1000

    def sleep_ms(self, ms: float) -> None:
        time.sleep(ms / 1000)


class UuidGenerator:
    def new_id(self) -> str:
        return str(uuid.uuid4())
