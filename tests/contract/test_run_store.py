"""Runs, decisions, holds and the ledger: the fake and DynamoDB hold to one contract."""

from __future__ import annotations

import concurrent.futures
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact
from chalicelib.domain.errors import ConcurrentUpdateError, LostLeaseError, MarketingTakenError, RunTrippedError
from chalicelib.domain.inbound import InboundSms, new_contact, read_text
from chalicelib.domain.ledger import FAILED, OUT, UNKNOWN, ClaimStatus, Fate, LedgerState, conversation_text, look
from chalicelib.domain.messages import DeliveryStatus, Direction, Message
from chalicelib.domain.policy import Decision, Reason, Verdict
from chalicelib.domain.runs import DecisionRecord, Hold, Run
from chalicelib.services.ports import ConversationStore, RunStore, Write
from tests.fakes import InMemoryConversationStore, InMemoryRunStore

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PHONE = "+447700900123"
RUN = "cmp_leeds@20260601T090000+0000"


@dataclass
class Stores:
    runs: RunStore
    contacts: ConversationStore
    another: Callable[[], RunStore]  # the same table from a second container, with its own view of the pace


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "memory":
        contacts = InMemoryConversationStore()
        return Stores(InMemoryRunStore(contacts), contacts, lambda: InMemoryRunStore(contacts))
    client, table = request.getfixturevalue("dynamodb"), request.getfixturevalue("table")
    return Stores(
        DynamoRunStore(client, table), DynamoConversationStore(client, table), lambda: DynamoRunStore(client, table)
    )


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


def test_counting_against_a_missing_run_makes_no_run(stores: Stores) -> None:
    stores.runs.add_counts("cmp_gone@x", {"failed": 1})
    assert stores.runs.get_run("cmp_gone@x") is None


def test_counts_spread_over_shards_read_back_as_the_runs_and_by_cell(stores: Stores) -> None:
    stores.runs.start_run(run())
    phones = [f"+4477009001{n:02d}" for n in range(40)]  # enough numbers to land on many shards
    for n, phone in enumerate(phones):
        commit_all(stores.runs, stores.runs.counted(RUN, phone, {OUT: 1, "segments": 2}, f"leeds/{'ab'[n % 2]}"))
        stores.runs.add_counts(RUN, {"delivered": 1}, phone, f"leeds/{'ab'[n % 2]}")
    assert stores.runs.finish_shard(RUN, 0, {"send/clear": 40}, {"leeds/a": 20, "leeds/b": 20})
    stored = stores.runs.get_run(RUN)
    assert stored is not None and stored.counts == {"send/clear": 40, OUT: 40, "segments": 80, "delivered": 40}
    assert stores.runs.list_runs("cmp_leeds")[0].counts == stored.counts
    each = {"planned": 20, OUT: 20, "segments": 40, "delivered": 20}
    assert stores.runs.cells(RUN) == {"leeds/a": each, "leeds/b": each}


def test_a_campaign_lists_its_newest_runs_only(stores: Stores) -> None:
    for day in range(25):
        at = AT + timedelta(days=day)
        stores.runs.start_run(run(id=f"cmp_leeds@{at:%Y%m%dT%H%M%S%z}", scheduled_for=at))
    listed = stores.runs.list_runs("cmp_leeds")
    assert [r.scheduled_for for r in listed] == [AT + timedelta(days=day) for day in range(24, 4, -1)]
    since = stores.runs.list_runs("cmp_leeds", since=AT + timedelta(days=2))  # a resume's: every live one
    assert [r.scheduled_for for r in since] == [AT + timedelta(days=day) for day in range(24, 1, -1)]


def commit_all(runs: RunStore, writes: Sequence[Write]) -> None:
    unit = runs.unit()
    unit.add(*writes)
    unit.commit()


def commit(runs: RunStore, write: Write) -> None:
    unit = runs.unit()
    unit.add(write)
    unit.commit()


def test_the_breaker_trips_once(stores: Stores) -> None:
    stores.runs.start_run(run())
    commit(stores.runs, stores.runs.tripped(RUN, "too many opt-outs"))
    with pytest.raises(RunTrippedError):
        commit(stores.runs, stores.runs.tripped(RUN, "again"))
    stored = stores.runs.get_run(RUN)
    assert stored is not None and stored.breaker == "too many opt-outs"
    commit(stores.runs, stores.runs.cleared(RUN))  # resumed
    with pytest.raises(ConcurrentUpdateError):
        commit(stores.runs, stores.runs.cleared(RUN))
    cleared = stores.runs.get_run(RUN)
    assert cleared is not None and cleared.breaker is None and cleared.resumed
    with pytest.raises(RunTrippedError):  # an operator's resume stands for this run
        commit(stores.runs, stores.runs.tripped(RUN, "again"))


def test_slots_are_spaced_across_senders(stores: Stores) -> None:
    stores.runs.start_run(run())
    first, _ = stores.runs.take_slot(RUN, 0.5, 1000.0)
    second, _ = stores.runs.take_slot(RUN, 0.5, 1000.0)
    third, after = stores.another().take_slot(RUN, 0.5, 1000.2)
    late, _ = stores.runs.take_slot(RUN, 0.5, 2000.0)
    assert (first, second, third, late) == (1000.0, 1000.5, 1001.0, 2000.0)
    assert after.breaker is None and OUT not in after.counts  # a slot is not a text out


def test_decisions_read_back_newest_first_and_replays_overwrite(stores: Stores) -> None:
    other_run = record(minutes=5).model_copy(update={"run_id": "cmp_other@20260601T091000+0000"})
    stores.runs.holds.record([record(), other_run, record(phone="+447700900999")], [])
    stores.runs.holds.record([record()], [])
    assert stores.runs.holds.decisions_for(PHONE) == [other_run, record()]
    assert stores.runs.holds.decisions_for(PHONE, limit=1) == [other_run]


def due(stores: Stores, hold: Hold) -> list[Hold]:
    return [filed for page in stores.runs.holds.due(hold.minute, hold.shard) for filed in page]


def test_holds_are_filed_by_minute_and_released(stores: Stores) -> None:
    now = AT
    soon = Hold.filed(RUN, "cmp_leeds", PHONE, AT + timedelta(minutes=30, seconds=20), now)
    past = Hold.filed(RUN, "cmp_leeds", "+447700900999", AT - timedelta(minutes=5), now)
    assert soon.minute == AT + timedelta(minutes=30)
    assert past.minute == AT + timedelta(minutes=1)  # never filed where the tick has already been
    stores.runs.holds.record([], [soon, past])
    assert due(stores, soon) == [soon]
    assert [h for page in stores.runs.holds.due(soon.minute, (soon.shard + 1) % 8) for h in page] == []
    stores.runs.holds.release([soon])
    assert due(stores, soon) == []
    assert due(stores, past) == [past]


def test_texts_held_for_a_pause_are_noted_under_their_run_until_forgotten(stores: Stores) -> None:
    held = [
        Hold.filed(RUN, "cmp_leeds", f"+4477009001{i:02d}", AT + timedelta(hours=1), AT, Reason.CAMPAIGN_PAUSED)
        for i in range(12)
    ]
    later = AT + timedelta(hours=1)  # held again at the re-check: noted again, under its new minute
    again = Hold.filed(RUN, "cmp_leeds", held[0].phone, later + timedelta(hours=1), later, Reason.CAMPAIGN_PAUSED)
    quiet = Hold.filed(RUN, "cmp_leeds", "+447700900999", AT + timedelta(hours=3), AT, Reason.QUIET_HOURS)
    assert all(hold.paused for hold in held) and not quiet.paused
    stores.runs.holds.park([*held, again])
    stores.runs.holds.park(held[:3])  # a replay changes nothing
    key = lambda hold: (hold.phone, hold.minute)  # noqa: E731
    assert sorted(stores.runs.holds.parked(RUN), key=key) == sorted([*held, again], key=key)
    assert stores.runs.holds.parked("cmp_other@20260601T090000+0000") == []
    stores.runs.holds.unpark(held[:5])
    assert sorted(stores.runs.holds.parked(RUN), key=key) == sorted([*held[5:], again], key=key)


def test_the_ledger_lets_one_claim_through_until_released(stores: Stores) -> None:
    stores.runs.start_run(run())
    lease = AT + timedelta(minutes=4)
    first = stores.runs.ledger.claim(RUN, PHONE, AT, lease)
    assert first.status == ClaimStatus.TAKEN and first.attempt
    assert stores.runs.ledger.claim(RUN, PHONE, AT, lease).status == ClaimStatus.BUSY  # a redelivered job
    assert stores.runs.ledger.settle(RUN, PHONE, first.attempt, Fate.RETRY, detail="HTTP 429")
    assert not stores.runs.ledger.settle(RUN, PHONE, first.attempt, Fate.FAILED)  # given back: no longer ours
    second = stores.runs.ledger.claim(RUN, PHONE, AT, lease)
    assert second.status == ClaimStatus.TAKEN and second.attempt != first.attempt
    assert stores.runs.ledger.settle(RUN, PHONE, second.attempt, Fate.UNKNOWN, record(), "no answer in time")
    assert (
        stores.runs.ledger.claim(RUN, PHONE, AT + timedelta(days=2), lease).status == ClaimStatus.BUSY
    )  # never resent
    assert stores.runs.ledger.claim(RUN, "+447700900999", AT, lease).status == ClaimStatus.TAKEN
    counts = stores.runs.get_run(RUN)
    assert counts is not None and counts.counts == {UNKNOWN: 1}
    assert stores.runs.holds.decisions_for(PHONE)[0].outcome == "unknown"


def test_a_dead_senders_entry_is_found_stale_after_its_lease_and_taken_over_once(stores: Stores) -> None:
    stores.runs.start_run(run())
    dead = stores.runs.ledger.claim(RUN, PHONE, AT, AT + timedelta(minutes=4))
    assert stores.runs.ledger.claim(RUN, PHONE, AT + timedelta(minutes=3), AT).status == ClaimStatus.BUSY
    later = AT + timedelta(minutes=5)
    stale = stores.runs.ledger.claim(RUN, PHONE, later, later + timedelta(minutes=4))
    assert stale.status == ClaimStatus.STALE_SENDING and stale.attempt == dead.attempt and stale.sending_since == AT
    taken = stores.runs.ledger.claim(RUN, PHONE, later, later + timedelta(minutes=4), take_over=stale.attempt)
    assert taken.status == ClaimStatus.TAKEN
    again = stores.runs.ledger.claim(RUN, PHONE, later, later + timedelta(minutes=4), take_over=stale.attempt)
    assert again.status == ClaimStatus.BUSY  # a second reconciler loses
    assert not stores.runs.ledger.settle(RUN, PHONE, dead.attempt, Fate.FAILED)  # the dead sender's word counts no more
    assert stores.runs.ledger.settle(RUN, PHONE, taken.attempt, Fate.DROPPED, record())


def test_a_stale_claim_hands_back_the_body_the_dead_sender_claimed_it_for(stores: Stores) -> None:
    stores.runs.start_run(run())
    lease = AT + timedelta(minutes=4)
    dead = stores.runs.ledger.claim(RUN, PHONE, AT, lease, body="Hi Sam, 2-for-1 tonight")
    live = stores.runs.ledger.claim(RUN, PHONE, AT + timedelta(minutes=1), lease)
    assert live.status == ClaimStatus.BUSY and live.lease_until == lease  # another sender's: until then
    assert look(stores.runs.ledger.entry(RUN, PHONE), AT + timedelta(minutes=1)) == live
    later = AT + timedelta(minutes=5)
    stale = stores.runs.ledger.claim(RUN, PHONE, later, later + timedelta(minutes=4), body="Hi Ann, 2-for-1 tonight")
    assert stale.status == ClaimStatus.STALE_SENDING and stale.attempt == dead.attempt
    assert stale.body == "Hi Sam, 2-for-1 tonight"  # what went (or not) then, not what would go now
    assert look(stores.runs.ledger.entry(RUN, PHONE), later) == stale  # the same, nothing written
    assert stores.runs.ledger.settle(RUN, PHONE, stale.attempt, Fate.DROPPED, record(verdict=Verdict.DROP))
    settled = look(stores.runs.ledger.entry(RUN, PHONE), later)
    assert settled.status == ClaimStatus.BUSY and settled.lease_until is None
    assert look(stores.runs.ledger.entry(RUN, "+447700900999"), later).status == ClaimStatus.TAKEN  # free


def test_the_claimed_body_is_kept_up_to_twilios_longest(stores: Stores) -> None:
    stores.runs.start_run(run())
    stores.runs.ledger.claim(RUN, PHONE, AT, AT + timedelta(minutes=4), body="x" * 5000)
    assert look(stores.runs.ledger.entry(RUN, PHONE), AT + timedelta(minutes=5)).body == "x" * 1600


def test_a_conversation_text_keeps_its_request_and_sid_and_counts_on_no_run(stores: Stores) -> None:
    stores.runs.start_run(run())
    text = conversation_text("reply", "key-1")
    assert stores.runs.ledger.entry(text, PHONE) is None
    claim = stores.runs.ledger.claim(text, PHONE, AT, AT + timedelta(seconds=90), body="We do!", request="hash-1")
    assert claim.status == ClaimStatus.TAKEN
    entry = stores.runs.ledger.entry(text, PHONE)
    assert entry is not None and (entry.state, entry.body, entry.request, entry.sid) == (
        LedgerState.SENDING, "We do!", "hash-1", ""
    )  # fmt: skip
    assert stores.runs.ledger.settle(text, PHONE, claim.attempt, Fate.SENT, sid="SM1")
    entry = stores.runs.ledger.entry(text, PHONE)
    assert entry is not None and (entry.state, entry.sid, entry.request) == (LedgerState.SENT, "SM1", "hash-1")
    assert stores.runs.list_runs("reply") == [] and stores.runs.get_run(RUN) == run()  # counted nowhere


def test_settling_without_a_claim_is_refused_while_someone_sends(stores: Stores) -> None:
    stores.runs.start_run(run())
    assert stores.runs.ledger.settle(RUN, PHONE, None, Fate.HELD, record())  # held before any claim
    claim = stores.runs.ledger.claim(RUN, PHONE, AT, AT + timedelta(minutes=4))
    assert not stores.runs.ledger.settle(RUN, PHONE, None, Fate.DROPPED, record())
    assert stores.runs.ledger.settle(RUN, PHONE, claim.attempt, Fate.FAILED, record())
    assert not stores.runs.ledger.settle(RUN, PHONE, None, Fate.DROPPED, record())  # settled: once
    stored = stores.runs.get_run(RUN)
    assert stored is not None and stored.counts == {FAILED: 1}


def test_one_marketing_text_per_window_even_from_two_runs_at_once(stores: Stores) -> None:
    stores.contacts.save_contact(Contact(phone=PHONE, created_at=AT), None)
    seen = stores.contacts.get_contact(PHONE)
    window = AT - timedelta(hours=24)
    stores.runs.ledger.claim(RUN, PHONE, AT, AT + timedelta(minutes=4), marketing_since=window, seen=seen)
    with pytest.raises(MarketingTakenError):  # the reservation changes no decision: the contact is still as read
        stores.runs.ledger.claim(
            "cmp_other@20260601T090000+0000", PHONE, AT, AT + timedelta(minutes=4), marketing_since=window, seen=seen
        )
    stores.runs.ledger.release_marketing(PHONE, AT)  # the first one did not go
    other = stores.runs.ledger.claim(
        "cmp_other@20260601T090000+0000", PHONE, AT, AT + timedelta(minutes=4), marketing_since=window
    )
    assert other.status == ClaimStatus.TAKEN


def _read_then(stores: Stores, change: str) -> Contact:
    """The contact as a sender's batch read saw it, then changed by a STOP text,
    a text that is no keyword, or a whole-profile write (an operator's opt-out)."""
    stores.contacts.save_contact(Contact(phone=PHONE, created_at=AT), None)
    seen = stores.contacts.get_contacts([PHONE])[0]
    if change == "profile":
        opted_out = ConsentEvent(state=ConsentState.OPTED_OUT, source="operator", at=AT)
        stores.contacts.save_contact(seen.with_consent(opted_out), seen.version)
    else:
        sms = InboundSms(f"SM{len(change):032x}", PHONE, "+15005550006", change, AT + timedelta(seconds=1))
        stores.contacts.apply_text(read_text(sms), new_contact(sms, lambda _: ("Europe/London",)))
    return seen


@pytest.mark.parametrize("change", ["STOP", "hello?", "profile"])
@pytest.mark.parametrize("marketing", [False, True])
def test_a_claim_on_a_contact_changed_since_its_read_is_refused_and_writes_nothing(
    stores: Stores, change: str, marketing: bool
) -> None:
    stores.runs.start_run(run())
    seen = _read_then(stores, change)
    lease, window = AT + timedelta(minutes=4), (AT - timedelta(hours=24) if marketing else None)
    refused = stores.runs.ledger.claim(RUN, PHONE, AT, lease, marketing_since=window, seen=seen)
    assert refused.status == ClaimStatus.CHANGED  # never MarketingTakenError: the slot is free
    fresh = stores.contacts.get_contact(PHONE)
    assert fresh is not None and fresh.version + fresh.engagement.inbound_count > seen.version
    claim = stores.runs.ledger.claim(RUN, PHONE, AT, lease, marketing_since=window, seen=fresh)  # read again: taken
    assert claim.status == ClaimStatus.TAKEN  # the refused claim wrote neither the entry nor the slot


def test_a_claim_on_a_contact_as_read_is_taken_and_the_entry_is_checked_first(stores: Stores) -> None:
    stores.runs.start_run(run())
    stores.contacts.save_contact(Contact(phone=PHONE, created_at=AT), None)
    seen = stores.contacts.get_contacts([PHONE, "+447700900999"])
    assert [contact.phone for contact in seen] == [PHONE]  # only those that exist
    lease = AT + timedelta(minutes=4)
    assert stores.runs.ledger.claim(RUN, PHONE, AT, lease, seen=seen[0]).status == ClaimStatus.TAKEN
    assert stores.runs.ledger.claim(RUN, PHONE, AT, lease, seen=seen[0]).status == ClaimStatus.BUSY
    gone = Contact(phone="+447700900999", created_at=AT)  # read, then no longer there
    assert stores.runs.ledger.claim(RUN, gone.phone, AT, lease, seen=gone).status == ClaimStatus.CHANGED


def test_a_sent_text_is_recorded_with_its_contact_atomically(stores: Stores) -> None:
    stores.runs.start_run(run())
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
    claim = stores.runs.ledger.claim(RUN, PHONE, AT, AT + timedelta(minutes=4))
    sent = record().model_copy(update={"outcome": Fate.SENT, "sid": message.sid})

    def record_sent(expected_contact: int, attempt: str) -> None:  # one unit of work, as recording.py makes it
        unit = stores.contacts.unit()
        unit.add(
            stores.runs.ledger.sent(RUN, PHONE, attempt, message.sid),
            stores.contacts.messages.saved(message, None),
            *stores.contacts.saved(stored, expected_contact),
            stores.runs.holds.decided(sent),
            *stores.runs.counted(RUN, PHONE, {OUT: 1}),
        )
        unit.commit()

    with pytest.raises(ConcurrentUpdateError):  # the contact changed since it was read
        record_sent(stored.version + 1, claim.attempt)
    assert stores.contacts.messages.thread(PHONE) == []
    with pytest.raises(LostLeaseError):  # the ledger write's own refusal: another sender holds the text
        record_sent(stored.version, "someone else's")
    record_sent(stored.version, claim.attempt)
    saved, after = stores.contacts.messages.with_contact(PHONE, message.sid)
    assert saved is not None and saved.run_id == RUN and saved.body == "Hi"
    assert after is not None and after.version == stored.version + 1
    assert stores.runs.holds.decisions_for(PHONE) == [sent]
    assert stores.runs.ledger.claim(RUN, PHONE, AT, AT + timedelta(days=1)).status == ClaimStatus.BUSY
    settled = stores.runs.get_run(RUN)
    assert settled is not None and settled.counts == {OUT: 1}
    assert stores.runs.list_runs("cmp_leeds") == [settled]


def test_the_tick_cursor_moves_forward_once(stores: Stores) -> None:
    assert stores.runs.holds.cursor() is None
    assert stores.runs.holds.advance_cursor(None, AT)
    assert not stores.runs.holds.advance_cursor(None, AT + timedelta(minutes=1))
    assert stores.runs.holds.advance_cursor(AT, AT + timedelta(minutes=1))
    assert stores.runs.holds.cursor() == AT + timedelta(minutes=1)


def test_senders_taking_slots_at_once_all_get_one_each_spaced(stores: Stores) -> None:
    stores.runs.start_run(run())

    def sender(n: int) -> list[float]:
        own = stores.another()
        return [own.take_slot(RUN, 0.5, 1000.0 + n * 0.01 + i * 0.2)[0] for i in range(15)]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        slots = sorted(slot for taken in pool.map(sender, range(4)) for slot in taken)
    assert len(slots) == 60
    assert all(b - a >= 0.5 - 1e-9 for a, b in itertools.pairwise(slots))  # never two texts closer than the pace


def test_a_senders_pace_is_one_across_campaigns_and_sender_processes(stores: Stores) -> None:
    """Two runs (campaigns) on one number share its pace; another number has its own."""
    first = stores.runs.senders.take_slot("+447700900001", 0.5, 1000.0)  # the first text creates the pace
    second = stores.another().senders.take_slot("+447700900001", 1.0, 1000.0)  # a two-segment text
    third = stores.runs.senders.take_slot("+447700900001", 0.5, 1000.0)
    elsewhere = stores.runs.senders.take_slot("MG" + "a" * 32, 0.5, 1000.0)
    idle = stores.runs.senders.take_slot("+447700900001", 0.5, 5000.0)
    assert (first, second, third, elsewhere, idle) == (1000.0, 1000.5, 1001.5, 1000.0, 5000.0)


def test_senders_taking_one_numbers_slots_at_once_never_come_closer_than_its_pace(stores: Stores) -> None:
    def sender(n: int) -> list[float]:
        own = stores.another().senders
        return [own.take_slot("+447700900001", 0.5, 1000.0 + n * 0.01 + i * 0.2) for i in range(15)]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        slots = sorted(slot for taken in pool.map(sender, range(4)) for slot in taken)
    assert len(slots) == 60
    assert all(b - a >= 0.5 - 1e-9 for a, b in itertools.pairwise(slots))
