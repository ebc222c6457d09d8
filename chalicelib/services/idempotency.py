"""Idempotent requests (the `Idempotency-Key` header), after Powertools' idempotency
utility: a record is written in progress, with a lease, under one condition before
the side effect, and completed with the response after it. A completed record
answers a retry with the stored response; a record given back (`release`: the
request failed and did nothing) lets the next request with the key start over.

Unlike Powertools, an in-progress record whose lease has expired is reported,
never taken over by the store: the work under it (a text handed to Twilio) may
have happened, and only the caller knows whether it is safe to repeat."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain.errors import RapportError

__all__ = [
    "KEY_PATTERN",
    "RECORD_KEPT",
    "IdempotencyKeyMismatchError",
    "IdempotencyStore",
    "Idempotent",
    "InProgress",
    "InvalidIdempotencyKeyError",
    "NotInProgressError",
    "Replay",
    "Started",
    "request_hash",
    "valid_key",
]

RECORD_KEPT = timedelta(hours=24)  # a key is remembered this long (the table's TTL, `expires_at`)
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")  # 1-255 printable ASCII characters


class InvalidIdempotencyKeyError(RapportError, ValueError):
    """An Idempotency-Key that is not 1-255 printable ASCII characters."""


class IdempotencyKeyMismatchError(RapportError):
    """The key was used before with another request."""


class NotInProgressError(RapportError):
    """Completing or giving back a record that is not in progress (completed, given back, or never begun)."""


@dataclass(frozen=True)
class Started:
    """The record is ours, in progress: do the work, then complete or release it."""


@dataclass(frozen=True)
class Replay:
    """The first request with this key completed: answer what it answered."""

    response: dict[str, Any]


@dataclass(frozen=True)
class InProgress:
    """Another request with this key began and has not completed."""

    started_at: datetime
    lease_until: datetime  # past it, whoever began has stopped without a word
    intent: dict[str, str]  # what it was about to do

    def expired(self, now: datetime) -> bool:
        return now >= self.lease_until


class IdempotencyStore(Protocol):
    """One record per key (keys are scoped by the caller: `reply#<key>`)."""

    def begin(
        self, key: str, request_hash: str, now: datetime, lease: timedelta, intent: Mapping[str, str]
    ) -> Started | Replay | InProgress:
        """Write the record in progress (leased until `now + lease`, remembered for
        RECORD_KEPT, carrying `intent`) when there is none, it was given back or
        it is past its RECORD_KEPT; else report it. Raises IdempotencyKeyMismatchError
        when the record holds another request's hash."""
        ...

    def complete(self, key: str, response: Mapping[str, Any]) -> None:
        """Keep the response (JSON) for every later request with the key.
        NotInProgressError when the record is not in progress."""
        ...

    def release(self, key: str) -> None:
        """Give the key back after a failure that did nothing: the next request starts over.
        NotInProgressError when the record is not in progress (a completed one stays)."""
        ...


def valid_key(raw: str) -> str:
    if not KEY_PATTERN.fullmatch(raw):
        raise InvalidIdempotencyKeyError("Idempotency-Key: 1 to 255 printable ASCII characters")
    return raw


def request_hash(scope: str, request: Mapping[str, Any]) -> str:
    """The request's identity: the same key with another hash is another request."""
    canonical = json.dumps({"scope": scope, "request": request}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Idempotent:
    """One request under its key, in a scope (one per route). Without a key a fresh
    one is made: the request is then never replayed, but its intent is still
    written before the side effect, like any other."""

    def __init__(self, store: IdempotencyStore, scope: str, key: str | None, request: Mapping[str, Any]) -> None:
        self._store = store
        self.key = f"{scope}#{key if key is not None else 'auto:' + secrets.token_hex(16)}"
        self.request_hash = request_hash(scope, request)

    def begin(self, now: datetime, lease: timedelta, intent: Mapping[str, str]) -> Started | Replay | InProgress:
        return self._store.begin(self.key, self.request_hash, now, lease, intent)

    def complete(self, response: Mapping[str, Any]) -> None:
        self._store.complete(self.key, response)

    def release(self) -> None:
        self._store.release(self.key)
