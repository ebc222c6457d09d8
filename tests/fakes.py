"""Test doubles for the ports. The stores are the DynamoDB adapters themselves on
a table in memory (tests/memory_dynamodb.py): the rules they keep are written
once, in chalicelib/adapters, and the contract suites hold that table to moto's
answers. Clock, queue and sender are fakes of their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.dynamodb_store import (
    DynamoCampaignStore,
    DynamoConversationStore,
    DynamoPromptBook,
    DynamoStoreBook,
)
from chalicelib.domain.errors import LookupUnavailableError
from chalicelib.services.ports import SendOutcome, SendResult
from chalicelib.services.stores import StoreDirectory
from tests.memory_dynamodb import Item, MemoryDynamoDB

TABLE = "rapport"


class MemoryTable:
    """One table in memory that several stores share, as they share the real one."""

    def __init__(self) -> None:
        self.db = MemoryDynamoDB()
        self.name = self.db.create_table(TABLE)
        self.client: Any = cast(Any, self.db)

    def items(self, wanted: Callable[[Item], bool] = lambda _item: True) -> list[Item]:
        return [item for item in self.db.items(self.name) if wanted(item)]


class InMemoryConversationStore(DynamoConversationStore):
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table or MemoryTable()
        super().__init__(self.table.client, self.table.name)


class InMemoryRunStore(DynamoRunStore):
    """Shares `store`'s table: a send's record writes the contact and the ledger together."""

    def __init__(self, store: InMemoryConversationStore | None = None) -> None:
        self.table = store.table if store is not None else MemoryTable()
        super().__init__(self.table.client, self.table.name)


class InMemoryCampaignStore(DynamoCampaignStore):
    def __init__(self, table: MemoryTable | None = None) -> None:
        table = table or MemoryTable()
        super().__init__(table.client, table.name)


class InMemoryPromptBook(DynamoPromptBook):
    def __init__(self, table: MemoryTable | None = None) -> None:
        table = table or MemoryTable()
        super().__init__(table.client, table.name)


class StepClock:
    """A clock that moves forward a little on every reading."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)) -> None:
        self.current = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.current += timedelta(seconds=seconds)


class InMemoryQueue:
    def __init__(self) -> None:
        self.jobs: list[tuple[dict[str, Any], int]] = []  # (body, delay)

    def enqueue(self, jobs: list[dict[str, Any]], delay_s: int = 0) -> None:
        self.jobs.extend((job, delay_s) for job in jobs)

    def take(self) -> list[dict[str, Any]]:
        taken, self.jobs = [job for job, _ in self.jobs], []
        return taken


class FakeSender:
    """Answers as told, in order (then accepts); remembers what it was asked to send."""

    def __init__(self, clock: StepClock, answers: list[SendResult] | None = None) -> None:
        self.clock = clock
        self.answers = list(answers or [])
        self.sent: list[tuple[str, str, int, datetime]] = []
        self.accepted: list[tuple[str, str, datetime, str]] = []  # what Twilio would list: to, body, when, sid
        self.lookup_fails = False
        self.origins: list[str | None] = []  # each send's sender (None: the brand's own)

    def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
        self.sent.append((to, body, valid_for_s, self.clock.current))
        self.origins.append(origin)
        result = self.answers.pop(0) if self.answers else None
        if result is None:
            result = SendResult(SendOutcome.ACCEPTED, sid=f"SM{len(self.sent):032x}", from_number="+15005550006")
        went = result.outcome == SendOutcome.ACCEPTED or (result.outcome == SendOutcome.UNKNOWN and result.sid)
        if went:
            self.accepted.append((to, body, self.clock.current, result.sid or f"SM{len(self.sent):032x}"))
        return result

    def find_sent(self, to: str, body: str, since: datetime) -> str | None:
        if self.lookup_fails:
            raise LookupUnavailableError("Twilio did not answer the lookup")
        found = [sid for phone, text, at, sid in self.accepted if (phone, text) == (to, body) and at >= since]
        return found[-1] if found else None


def directory_of(store: InMemoryConversationStore, clock: StepClock) -> StoreDirectory:
    """The stores on `store`'s table as texts read them (an edit seen at once); the brand's own
    sender fast enough that a campaign's own rate paces the tests."""
    return StoreDirectory(DynamoStoreBook(store.table.client, store.table.name), clock, "Pizza Co", 1000, kept_s=0)
