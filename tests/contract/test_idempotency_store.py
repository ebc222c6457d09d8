"""One contract, two implementations of IdempotencyStore: in memory and DynamoDB (moto server)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from chalicelib.adapters.dynamodb_idempotency import DynamoIdempotencyStore
from chalicelib.services.idempotency import (
    RECORD_KEPT,
    IdempotencyKeyMismatchError,
    IdempotencyStore,
    InProgress,
    NotInProgressError,
    Replay,
    Started,
)
from tests.fakes_idempotency import InMemoryIdempotencyStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=90)
INTENT = {"phone": "+447700900123", "body": "We do!"}
SENT = {"outcome": "sent", "message": {"sid": "SM" + "a" * 32, "body": "We do! 🍕", "status_events": []}}


@pytest.fixture(params=["memory", "dynamodb"])
def records(request: pytest.FixtureRequest) -> IdempotencyStore:
    if request.param == "memory":
        return InMemoryIdempotencyStore()
    client: DynamoDBClient = request.getfixturevalue("dynamodb")
    return DynamoIdempotencyStore(client, request.getfixturevalue("table"))


def test_the_first_request_starts_and_a_second_finds_it_in_progress_with_its_intent(records: IdempotencyStore) -> None:
    assert records.begin("reply#k1", "h1", AT, LEASE, INTENT) == Started()
    found = records.begin("reply#k1", "h1", AT + timedelta(seconds=5), LEASE, {"phone": "other"})
    assert found == InProgress(started_at=AT, lease_until=AT + LEASE, intent=INTENT)
    assert not found.expired(AT + timedelta(seconds=5)) and found.expired(AT + LEASE)


def test_a_completed_request_is_replayed_with_its_response(records: IdempotencyStore) -> None:
    records.begin("reply#k1", "h1", AT, LEASE, INTENT)
    records.complete("reply#k1", SENT)
    assert records.begin("reply#k1", "h1", AT + timedelta(hours=1), LEASE, INTENT) == Replay(SENT)
    assert records.begin("reply#k1", "h1", AT + timedelta(hours=2), LEASE, INTENT) == Replay(SENT)


def test_the_key_with_another_request_is_refused_in_progress_or_completed(records: IdempotencyStore) -> None:
    records.begin("reply#k1", "h1", AT, LEASE, INTENT)
    with pytest.raises(IdempotencyKeyMismatchError):
        records.begin("reply#k1", "h2", AT, LEASE, INTENT)
    records.complete("reply#k1", SENT)
    with pytest.raises(IdempotencyKeyMismatchError):
        records.begin("reply#k1", "h2", AT, LEASE, INTENT)
    assert records.begin("reply#k1", "h1", AT, LEASE, INTENT) == Replay(SENT)


def test_keys_are_separate_per_scope_and_may_hold_any_printable_ascii(records: IdempotencyStore) -> None:
    odd = 'a key#with spaces, "quotes" and ~' + "x" * 200
    assert records.begin(f"reply#{odd}", "h1", AT, LEASE, INTENT) == Started()
    assert records.begin(f"ask#{odd}", "h2", AT, LEASE, INTENT) == Started()
    records.complete(f"reply#{odd}", SENT)
    assert records.begin(f"reply#{odd}", "h1", AT, LEASE, INTENT) == Replay(SENT)
    assert isinstance(records.begin(f"ask#{odd}", "h2", AT, LEASE, INTENT), InProgress)


def test_a_released_key_starts_over_even_with_another_request(records: IdempotencyStore) -> None:
    records.begin("reply#k1", "h1", AT, LEASE, INTENT)
    records.release("reply#k1")
    assert records.begin("reply#k1", "h2", AT + timedelta(seconds=1), LEASE, INTENT) == Started()
    records.complete("reply#k1", SENT)
    assert records.begin("reply#k1", "h2", AT, LEASE, INTENT) == Replay(SENT)


def test_an_expired_lease_is_reported_never_taken_over(records: IdempotencyStore) -> None:
    records.begin("reply#k1", "h1", AT, LEASE, INTENT)
    later = AT + LEASE + timedelta(minutes=5)
    found = records.begin("reply#k1", "h1", later, LEASE, INTENT)
    assert isinstance(found, InProgress) and found.expired(later) and found.started_at == AT
    records.complete("reply#k1", SENT)  # whoever began may still finish
    assert records.begin("reply#k1", "h1", later, LEASE, INTENT) == Replay(SENT)


def test_a_record_is_forgotten_after_it_is_kept_for_a_day(records: IdempotencyStore) -> None:
    records.begin("reply#k1", "h1", AT, LEASE, INTENT)
    records.complete("reply#k1", SENT)
    assert isinstance(records.begin("reply#k1", "h1", AT + RECORD_KEPT - timedelta(minutes=1), LEASE, INTENT), Replay)
    assert records.begin("reply#k1", "h2", AT + RECORD_KEPT + timedelta(seconds=1), LEASE, INTENT) == Started()


def test_only_a_record_in_progress_can_be_completed_or_released(records: IdempotencyStore) -> None:
    with pytest.raises(NotInProgressError):
        records.complete("reply#never", SENT)
    with pytest.raises(NotInProgressError):
        records.release("reply#never")
    records.begin("reply#k1", "h1", AT, LEASE, INTENT)
    records.complete("reply#k1", SENT)
    with pytest.raises(NotInProgressError):
        records.release("reply#k1")  # a completed request stays completed
    with pytest.raises(NotInProgressError):
        records.complete("reply#k1", {"outcome": "unknown"})
    assert records.begin("reply#k1", "h1", AT, LEASE, INTENT) == Replay(SENT)
    records.begin("reply#k2", "h1", AT, LEASE, INTENT)
    records.release("reply#k2")
    with pytest.raises(NotInProgressError):
        records.complete("reply#k2", SENT)


def test_of_many_requests_beginning_at_once_exactly_one_starts(records: IdempotencyStore) -> None:
    results: list[object] = []
    barrier = threading.Barrier(8)

    def one() -> None:
        barrier.wait()
        results.append(records.begin("reply#race", "h1", AT, LEASE, INTENT))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(Started()) == 1
    assert all(isinstance(result, InProgress) for result in results if result != Started())
