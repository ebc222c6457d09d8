"""IdempotencyStore in memory, held to the same contract test as DynamoIdempotencyStore."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.services.idempotency import (
    RECORD_KEPT,
    IdempotencyKeyMismatchError,
    InProgress,
    NotInProgressError,
    Replay,
    Started,
)


@dataclass
class Record:
    status: str  # in_progress | completed | released
    request_hash: str
    started_at: datetime
    lease_until: datetime
    intent: dict[str, str]
    expires_at: datetime
    response: dict[str, Any] | None = None


class InMemoryIdempotencyStore:
    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self._lock = threading.Lock()  # one conditional write in DynamoDB

    def begin(
        self, key: str, request_hash: str, now: datetime, lease: timedelta, intent: Mapping[str, str]
    ) -> Started | Replay | InProgress:
        with self._lock:
            found = self.records.get(key)
            if found is not None and found.status != "released" and found.expires_at > now:
                if found.request_hash != request_hash:
                    raise IdempotencyKeyMismatchError(key)
                if found.status == "completed" and found.response is not None:
                    return Replay(dict(found.response))
                return InProgress(found.started_at, found.lease_until, dict(found.intent))
            self.records[key] = Record("in_progress", request_hash, now, now + lease, dict(intent), now + RECORD_KEPT)
            return Started()

    def complete(self, key: str, response: Mapping[str, Any]) -> None:
        with self._lock:
            self._in_progress(key).status = "completed"
            self.records[key].response = dict(response)

    def release(self, key: str) -> None:
        with self._lock:
            self._in_progress(key).status = "released"

    def _in_progress(self, key: str) -> Record:
        found = self.records.get(key)
        if found is None or found.status != "in_progress":
            raise NotInProgressError(key)
        return found
