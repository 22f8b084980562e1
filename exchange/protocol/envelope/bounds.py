"""Size caps, checked before any cryptography so that a huge input costs nothing."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_statement_bytes: int = 64 * 1024
    max_jwe_bytes: int = 3 * 1024 * 1024
    max_record_bytes: int = 2 * 1024 * 1024
    max_recipients: int = 64


DEFAULT_LIMITS = Limits()
