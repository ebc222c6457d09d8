"""Consent from two sources: the customer's own word (their texts, their
carrier's STOP) and the brand's records (imports, forms). Whatever order they
arrive in and however they are stamped, no record undoes a customer's STOP, a
text delivered again changes nothing however long after, and a record stamped
in the future is refused (domain/contact.py, services/inbound.py,
services/campaigns.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.contact import ConsentEvent, ConsentState
from chalicelib.domain.inbound import BrandReplies, InboundSms
from chalicelib.domain.messages import Message
from chalicelib.domain.policy import Intent, PolicySettings, Purpose, Reason, decide
from chalicelib.services.campaigns import ContactRecord, RecordsRefusedError, import_contacts
from chalicelib.services.inbound import handle_inbound
from tests.fakes import InMemoryPromptBook
from tests.world import World

PHONE = "+447700900870"
BRAND = "+15005550006"
REPLIES = BrandReplies(opt_out="bye", opt_in="welcome back", help="help", conversation_ack="")
KEYWORDS = {"STOP": ConsentState.OPTED_OUT, "START": ConsentState.OPTED_IN}


def text(world: World, body: str, sid: str) -> Message:
    sms = InboundSms(sid, PHONE, BRAND, body, world.clock.now())
    return handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook())


def record(world: World, state: ConsentState, at: datetime) -> None:
    consent = ConsentEvent(state=state, source="till sign-up", at=at)
    import_contacts([ContactRecord(phone=PHONE, consent=consent)], world.store, world.stores, world.clock, zones)


def zones(_phone: str) -> tuple[str, ...]:
    return ("Europe/London",)


def consent(world: World) -> ConsentState:
    contact = world.store.get_contact(PHONE)
    assert contact is not None
    return contact.consent


def test_a_consent_stamped_in_the_future_is_refused_naming_the_record_and_nothing_is_stored() -> None:
    world = World()
    for ahead in (timedelta(hours=10), timedelta(days=365 * 70)):  # a wrong offset; 2099
        with pytest.raises(RecordsRefusedError) as refused:
            record(world, ConsentState.OPTED_IN, world.clock.now() + ahead)
        [(index, reason)] = refused.value.refused
        assert index == 0 and "is in the future" in reason
    assert world.store.get_contact(PHONE) is None
    record(world, ConsentState.OPTED_IN, world.clock.now() + timedelta(minutes=4))  # an importer's clock a little fast
    assert consent(world) == ConsentState.OPTED_IN


def test_a_stop_stands_over_any_record_stamped_after_it() -> None:
    world = World()
    record(world, ConsentState.OPTED_IN, world.clock.now() + timedelta(minutes=4))
    assert text(world, "STOP", "SM1").reply == "bye"  # received before the record's stamp, and it still wins
    record(world, ConsentState.OPTED_IN, world.clock.now() + timedelta(minutes=3))
    world.clock.sleep(3600)
    record(world, ConsentState.OPTED_IN, world.clock.now())  # an hour later, from the till
    contact = world.store.get_contact(PHONE)
    assert contact is not None and contact.consent == ConsentState.OPTED_OUT
    offer = Intent(purpose=Purpose.MARKETING)
    assert decide(contact, offer, world.clock.now(), PolicySettings()).reason == Reason.OPTED_OUT
    assert [e.state for e in world.store.timeline.trail(PHONE).consents].count(ConsentState.OPTED_IN) == 3  # kept


def test_the_brands_later_opt_out_is_kept_until_the_customer_opts_in_again() -> None:
    world = World()
    assert text(world, "START", "SM1").reply == "welcome back"
    world.clock.sleep(60)
    record(world, ConsentState.OPTED_OUT, world.clock.now())  # asked by phone to stop
    assert consent(world) == ConsentState.OPTED_OUT
    world.clock.sleep(60)
    record(world, ConsentState.OPTED_IN, world.clock.now())  # the routine CRM import after it
    assert consent(world) == ConsentState.OPTED_OUT  # does not undo the request
    world.clock.sleep(60)
    assert text(world, "START", "SM2").reply == "welcome back"
    assert consent(world) == ConsentState.OPTED_IN


def test_a_start_delivered_again_after_fifty_texts_and_a_stop_changes_nothing() -> None:
    world = World()
    text(world, "START", "SMstart")
    for n in range(50):
        text(world, f"question {n}", f"SMq{n:030d}")
    assert text(world, "STOP", "SMstop").reply == "bye"
    before = world.store.get_contact(PHONE)
    again = text(world, "START", "SMstart")  # the same signed request, replayed
    assert again.reply == "" and consent(world) == ConsentState.OPTED_OUT
    after = world.store.get_contact(PHONE)
    assert after == before  # not counted, not reopened, not a word changed
    assert len(world.store.timeline.trail(PHONE).consents) == 2
    assert text(world, "question 0", "SMq" + "0" * 30).reply == ""  # any text: the first delivery's reply


@dataclass(frozen=True)
class Said:
    body: str  # STOP or START


@dataclass(frozen=True)
class Recorded:
    state: ConsentState
    stamp_minutes: int  # the record's stamp, from now: negative is the past


@dataclass(frozen=True)
class Replayed:
    of: int  # which of the texts so far, delivered again


steps = st.lists(
    st.one_of(
        st.builds(Said, st.sampled_from(sorted(KEYWORDS))),
        st.builds(
            Recorded,
            st.sampled_from([ConsentState.OPTED_IN, ConsentState.OPTED_OUT]),
            st.integers(-60 * 24 * 30, 60 * 24 * 365 * 80),
        ),
        st.builds(Replayed, st.integers(0, 20)),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=120, deadline=None)
@given(schedule=steps)
def test_any_interleaving_ends_in_the_customers_latest_word_unless_the_brand_opted_them_out_after_it(
    schedule: list[Said | Recorded | Replayed],
) -> None:
    """The customer's latest keyword decides, whatever the records or replays
    around it; a record outranks it only as an opt-out stamped after it (and a
    later opt-in record does not undo that); with no keyword, the latest record
    (by stamp) stands."""
    world = World()
    said: list[tuple[str, str, datetime]] = []  # (sid, body, received)
    records: list[tuple[datetime, ConsentState]] = []
    for step in schedule:
        world.clock.sleep(60)
        now = world.clock.now()
        if isinstance(step, Said):
            sid = f"SM{len(said):032x}"
            said.append((sid, step.body, text(world, step.body, sid).at))
        elif isinstance(step, Replayed) and said:
            sid, body, _ = said[step.of % len(said)]
            text(world, body, sid)
        elif isinstance(step, Recorded):
            stamp = now + timedelta(minutes=step.stamp_minutes)
            if step.stamp_minutes > 5:
                with pytest.raises(RecordsRefusedError):
                    record(world, step.state, stamp)
                continue
            record(world, step.state, stamp)
            records.append((stamp, step.state))
    contact = world.store.get_contact(PHONE)
    latest_record = max(records, key=lambda kept: kept[0], default=None)  # max keeps the first of equals
    ties = [state for stamp, state in records if latest_record and stamp == latest_record[0]]
    if said:
        _, body, received = said[-1]
        expected = KEYWORDS[body]
        if any(stamp > received and state == ConsentState.OPTED_OUT for stamp, state in records):
            expected = ConsentState.OPTED_OUT
        assert contact is not None and contact.consent == expected
        if body == "STOP":
            assert contact.consent == ConsentState.OPTED_OUT  # nothing undoes it
    elif latest_record:
        assert contact is not None and contact.consent == ties[-1]
