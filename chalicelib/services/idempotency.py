"""The `Idempotency-Key` header of the routes that send a text: what a key may
be, and a request's identity. The text itself is sent at most once per key by
the ledger (domain/ledger.py `conversation_text`), as a campaign's text is once
per run: its entry is claimed, with a lease, before the Twilio call, keeps the
request's hash, and a stale one is reconciled against Twilio's message list."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.errors import RapportError

__all__ = [
    "KEY_PATTERN",
    "IdempotencyKeyMismatchError",
    "InvalidIdempotencyKeyError",
    "request_hash",
    "valid_key",
]

KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")  # 1-255 printable ASCII characters


class InvalidIdempotencyKeyError(RapportError, ValueError):
    """An Idempotency-Key that is not 1-255 printable ASCII characters."""


class IdempotencyKeyMismatchError(RapportError):
    """The key was used before with another request."""


def valid_key(raw: str) -> str:
    if not KEY_PATTERN.fullmatch(raw):
        raise InvalidIdempotencyKeyError("Idempotency-Key: 1 to 255 printable ASCII characters")
    return raw


def request_hash(scope: str, request: Mapping[str, Any]) -> str:
    """The request's identity: the same key with another hash is another request."""
    canonical = json.dumps({"scope": scope, "request": request}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
