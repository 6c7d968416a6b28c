"""Passwords, kept only as salted scrypt hashes (memory-hard): `scrypt$<log2 n>$<r>$<p>$<salt>$<hash>`.

The cost is a setting (the template's PasswordHashCost): 2^15 x 8 x 128 bytes = 32 MiB and ~0.1 s per hash
on Lambda; the offline stack uses less, so that tests creating thousands of users run in seconds. Each hash
carries its own parameters, so hashes made at any cost verify.
"""

import base64
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass, field

_R, _P, _SALT_BYTES, _KEY_BYTES = 8, 1, 16, 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    # scrypt needs 128 * n * r bytes, plus a little: allowed explicitly (OpenSSL's default cap is 32 MiB).
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=129 * n * r + (1 << 20), dklen=_KEY_BYTES)


def memory_per_hash(log2_n: int) -> int:
    """Bytes one scrypt hash at this cost holds while it runs."""
    return 128 * (1 << log2_n) * _R


@dataclass(frozen=True)
class ScryptHasher:
    log2_n: int = 15
    # Hashes run at once at most (scrypt releases the GIL: a chunk's threads hash in parallel): at 2^15, 25
    # threads would hold 800 MiB. The family sizes this from the function's memory.
    max_parallel: int = 4
    _slots: threading.BoundedSemaphore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_slots", threading.BoundedSemaphore(self.max_parallel))

    def hash(self, password: str) -> str:
        salt = os.urandom(_SALT_BYTES)
        with self._slots:
            key = _derive(password, salt, self.log2_n, _R, _P)
        return f"scrypt${self.log2_n}${_R}${_P}${_b64(salt)}${_b64(key)}"

    @staticmethod
    def verify(password: str, hashed: str) -> bool:
        scheme, log2_n, r, p, salt, key = hashed.split("$")
        if scheme != "scrypt":
            return False
        derived = _derive(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
        return hmac.compare_digest(derived, base64.b64decode(key))
