"""Runs, decisions, holds and the ledger: the fake and DynamoDB hold to one contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.messages import DeliveryStatus, Direction, Message
from chalicelib.domain.policy import Decision, Reason, Verdict
from chalicelib.domain.runs import OUT, DecisionRecord, Hold, Run
from chalicelib.services.ports import ConversationStore, LedgerState, RunStore
from tests.fakes import InMemoryConversationStore, InMemoryRunStore

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PHONE = "+447700900123"
RUN = "cmp_leeds@20260601T090000+0000"


@dataclass
class Stores:
    runs: RunStore
    contacts: ConversationStore


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "memory":
        contacts = InMemoryConversationStore()
        return Stores(InMemoryRunStore(contacts), contacts)
    client, table = request.getfixturevalue("dynamodb"), request.getfixturevalue("table")
    return Stores(DynamoRunStore(client, table), DynamoConversationStore(client, table))


def run(**changes: object) -> Run:
    return Run(id=RUN, campaign_id="cmp_leeds", scheduled_for=AT, started_at=AT, shards=4).model_copy(update=changes)


def record(phone: str = PHONE, minutes: int = 0, verdict: Verdict = Verdict.SEND) -> DecisionRecord:
    decision = Decision(verdict, Reason.CLEAR, "Nothing stands in the way: send now.")
    return DecisionRecord.of(phone, run(), decision, AT + timedelta(minutes=minutes), "planned")


def test_a_run_starts_once_and_reads_back(stores: Stores) -> None:
    assert stores.runs.start_run(run())
    assert not stores.runs.start_run(run(shards=8))
    assert stores.runs.get_run(RUN) == run()
    assert stores.runs.list_runs("cmp_leeds") == [run()]
    assert stores.runs.list_runs("cmp_other") == []


def test_shard_counts_are_added_once_per_shard(stores: Stores) -> None:
    stores.runs.start_run(run())
    assert stores.runs.finish_shard(RUN, 0, {"send/clear": 3, "drop/opted_out": 1})
    assert not stores.runs.finish_shard(RUN, 0, {"send/clear": 3, "drop/opted_out": 1})  # a redelivered job
    assert stores.runs.finish_shard(RUN, 1, {"send/clear": 2})
    assert stores.runs.finish_shard(RUN, 2, {})  # a segment with nobody in the audience
    stores.runs.add_counts(RUN, {"failed": 1})
    stores.runs.add_counts(RUN, {})
    stored = stores.runs.get_run(RUN)
    assert stored is not None
    assert stored.counts == {"send/clear": 5, "drop/opted_out": 1, "failed": 1}
    assert sorted(stored.shards_done) == [0, 1, 2]


def test_counting_against_a_missing_run_changes_nothing(stores: Stores) -> None:
    stores.runs.add_counts("cmp_gone@x", {"failed": 1})
    assert stores.runs.get_run("cmp_gone@x") is None


def test_the_breaker_trips_once(stores: Stores) -> None:
    stores.runs.start_run(run())
    assert stores.runs.trip_breaker(RUN, "too many opt-outs")
    assert not stores.runs.trip_breaker(RUN, "again")
    stored = stores.runs.get_run(RUN)
    assert stored is not None and stored.breaker == "too many opt-outs"


def test_slots_are_spaced_and_counted_across_senders(stores: Stores, request: pytest.FixtureRequest) -> None:
    stores.runs.start_run(run())
    first, _ = stores.runs.take_slot(RUN, 0.5, 1000.0)
    second, _ = stores.runs.take_slot(RUN, 0.5, 1000.0)
    other = stores.runs
    if isinstance(stores.runs, DynamoRunStore):  # a second container, with its own view of the pace
        other = DynamoRunStore(request.getfixturevalue("dynamodb"), request.getfixturevalue("table"))
    third, after = other.take_slot(RUN, 0.5, 1000.2)
    late, _ = stores.runs.take_slot(RUN, 0.5, 2000.0)
    assert (first, second, third, late) == (1000.0, 1000.5, 1001.0, 2000.0)
    assert after.counts[OUT] == 3


def test_decisions_read_back_newest_first_and_replays_overwrite(stores: Stores) -> None:
    other_run = record(minutes=5).model_copy(update={"run_id": "cmp_other@20260601T091000+0000"})
    stores.runs.record_decisions([record(), other_run, record(phone="+447700900999")], [])
    stores.runs.record_decisions([record()], [])
    assert stores.runs.decisions_for(PHONE) == [other_run, record()]
    assert stores.runs.decisions_for(PHONE, limit=1) == [other_run]


def test_holds_are_filed_by_minute_and_released(stores: Stores) -> None:
    now = AT
    soon = Hold.filed(RUN, "cmp_leeds", PHONE, AT + timedelta(minutes=30, seconds=20), now)
    past = Hold.filed(RUN, "cmp_leeds", "+447700900999", AT - timedelta(minutes=5), now)
    assert soon.minute == AT + timedelta(minutes=30)
    assert past.minute == AT + timedelta(minutes=1)  # never filed where the tick has already been
    stores.runs.record_decisions([], [soon, past])
    assert stores.runs.due_holds(soon.minute, soon.shard) == [soon]
    assert stores.runs.due_holds(soon.minute, (soon.shard + 1) % 8) == []
    stores.runs.release([soon])
    assert stores.runs.due_holds(soon.minute, soon.shard) == []
    assert stores.runs.due_holds(past.minute, past.shard) == [past]


def test_the_ledger_lets_one_claim_through_until_released(stores: Stores) -> None:
    expires = AT + timedelta(days=1)
    assert stores.runs.claim(RUN, PHONE, AT, expires) == 1
    assert stores.runs.claim(RUN, PHONE, AT, expires) is None  # a redelivered job
    stores.runs.settle(RUN, PHONE, LedgerState.RELEASED, "HTTP 429")
    assert stores.runs.claim(RUN, PHONE, AT, expires) == 2
    stores.runs.settle(RUN, PHONE, LedgerState.UNKNOWN, "no answer in time")
    assert stores.runs.claim(RUN, PHONE, AT, expires) is None  # unknown outcomes are never resent
    assert stores.runs.claim(RUN, "+447700900999", AT, expires) == 1


def test_a_sent_text_is_recorded_with_its_contact_atomically(stores: Stores) -> None:
    contact = Contact(phone=PHONE, created_at=AT)
    stores.contacts.save_contact(contact, None)
    stored = stores.contacts.get_contact(PHONE)
    assert stored is not None
    message = Message(
        sid="SM" + "1" * 32,
        phone=PHONE,
        brand_number="+15005550006",
        direction=Direction.OUTBOUND,
        at=AT,
        body="Hi",
        status=DeliveryStatus.QUEUED,
        run_id=RUN,
    )
    stores.runs.claim(RUN, PHONE, AT, AT + timedelta(days=1))
    sent = record().model_copy(update={"outcome": "sent", "sid": message.sid})
    with pytest.raises(ConcurrentUpdateError):  # the contact changed since it was read
        stores.runs.record_sent(stored, stored.version + 1, message, None, sent)
    assert stores.contacts.thread(PHONE) == []
    stores.runs.record_sent(stored, stored.version, message, None, sent)
    saved, after = stores.contacts.get_message_and_contact(PHONE, message.sid)
    assert saved is not None and saved.run_id == RUN and saved.body == "Hi"
    assert after is not None and after.version == stored.version + 1
    assert stores.runs.decisions_for(PHONE) == [sent]
    assert stores.runs.claim(RUN, PHONE, AT, AT + timedelta(days=1)) is None
    with pytest.raises(ConcurrentUpdateError):  # the message now exists: a second record collides
        stores.runs.record_sent(after, after.version, message, None, sent)


def test_the_tick_cursor_moves_forward_once(stores: Stores) -> None:
    assert stores.runs.tick_cursor() is None
    assert stores.runs.advance_cursor(None, AT)
    assert not stores.runs.advance_cursor(None, AT + timedelta(minutes=1))
    assert stores.runs.advance_cursor(AT, AT + timedelta(minutes=1))
    assert stores.runs.tick_cursor() == AT + timedelta(minutes=1)
