"""Invariants of a whole run (tick, plan, STOPs racing the sender, redelivered
jobs, send) over generated contacts: a STOP before the send job, and one that
lands after the sender read its batch but before it claimed the text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.dynamodb_ledger import DynamoLedger
from chalicelib.domain.contact import ConsentEvent, ConsentState, Deliverability, DeliverabilityState
from chalicelib.domain.inbound import InboundSms
from chalicelib.domain.ledger import Claim
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.send_text import BatchReads, SendJob
from chalicelib.services.sending import send_one
from tests.fakes import InMemoryPromptBook
from tests.world import REPLIES, SEND_AT, World

people = st.lists(
    st.tuples(
        st.sampled_from(list(ConsentState)),
        st.sampled_from(list(DeliverabilityState)),
        st.booleans(),  # texts STOP after planning, before sending
        st.booleans(),  # its send job is delivered twice
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(people=people, hours_late=st.integers(0, 30))
def test_no_text_goes_to_anyone_opted_out_undeliverable_or_twice(
    people: list[tuple[ConsentState, DeliverabilityState, bool, bool]], hours_late: int
) -> None:
    world = World()
    world.campaign(messages_per_second=100)
    phones = [f"+4477009003{i:02d}" for i in range(len(people))]
    for phone, (consent, deliverable, _, _) in zip(phones, people, strict=True):
        world.contact(phone, consent=consent, deliverability=Deliverability(state=deliverable))
    world.tick()
    world.plan()
    for n, (phone, (_, _, stops, _)) in enumerate(zip(phones, people, strict=True)):
        if stops:
            sms = InboundSms(f"SMstop{n}", phone, "+15005550006", "STOP", world.clock.now())
            handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook())
    jobs = world.send_queue.take()
    again = [job for job in jobs if people[phones.index(str(job["phone"]))][3]]
    world.clock.current = SEND_AT + timedelta(hours=hours_late)  # a slow queue: maybe past the deadline
    world.send(jobs + again)

    received = world.received()
    event(f"texts sent: {min(len(received), 3)}+")
    assert len(received) == len(set(received)), "a contact got two texts in one run"
    for phone in received:
        consent, deliverable, stopped, _ = people[phones.index(phone)]
        assert consent == ConsentState.OPTED_IN and not stopped
        assert deliverable == DeliverabilityState.OK
    assert hours_late < 24 or received == [], "sent after the relevance deadline"


OPT_OUTS = ("STOP", "please stop texting me", "operator")  # two texts; a whole-profile write (an operator, a 21610)
CHANGES = (None, *OPT_OUTS, "hello?")  # "hello?": a text, but no opt-out


class ChangeAtClaim(DynamoLedger):
    """The ledger, with a change to the contact landing just before its claim:
    after the sender's batch read and decision, before the claim's write."""

    def __init__(self, world: World, changes: dict[str, str]) -> None:
        super().__init__(world.table.client, world.table.name)
        self._world, self.changes = world, changes

    def claim(self, run_id: str, phone: str, *args: Any, **kwargs: Any) -> Claim:
        if (change := self.changes.pop(phone, None)) is not None:
            world, now = self._world, self._world.clock.now()
            if change == "operator":
                contact = world.store.get_contact(phone)
                assert contact is not None
                opted_out = ConsentEvent(state=ConsentState.OPTED_OUT, source="operator", at=now)
                world.store.save_contact(contact.with_consent(opted_out), contact.version)
            else:
                sms = InboundSms(f"SMrace{phone[-3:]}", phone, "+15005550006", change, now)
                handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook())
        return super().claim(run_id, phone, *args, **kwargs)


racing_people = st.lists(
    st.tuples(
        st.sampled_from([ConsentState.OPTED_IN] * 3 + [ConsentState.OPTED_OUT]),
        st.sampled_from([DeliverabilityState.OK] * 3 + [DeliverabilityState.UNDELIVERABLE]),
        st.sampled_from(CHANGES),
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=80, deadline=None)
@given(people=racing_people, batch_size=st.integers(1, 10), twice=st.booleans())
def test_an_opt_out_between_the_batch_read_and_the_claim_is_never_sent_to(
    people: list[tuple[ConsentState, DeliverabilityState, str | None]], batch_size: int, twice: bool
) -> None:
    world = World()
    world.campaign(messages_per_second=100)
    phones = [f"+4477009006{i:02d}" for i in range(len(people))]
    for phone, (consent, deliverable, _) in zip(phones, people, strict=True):
        world.contact(phone, consent=consent, deliverability=Deliverability(state=deliverable))
    world.tick()
    world.plan()
    changes = {phone: change for phone, (_, _, change) in zip(phones, people, strict=True) if change}
    runs = ChangeAtClaim(world, dict(changes))
    world.runs.ledger = runs
    ctx = world.ctx()
    jobs = world.send_queue.take()
    jobs += jobs if twice else []  # every job delivered twice, the second time in a later batch
    for start in range(0, len(jobs), batch_size):
        batch = jobs[start : start + batch_size]
        reads = BatchReads.of(batch)  # the whole batch's contacts read at its first text
        for job in batch:
            send_one(SendJob(str(job["run_id"]), str(job["campaign_id"]), str(job["phone"])), ctx, reads)

    received = world.received()
    eligible = {
        phone
        for phone, (consent, deliverable, _) in zip(phones, people, strict=True)
        if consent == ConsentState.OPTED_IN and deliverable == DeliverabilityState.OK
    }
    raced = {phone for phone in eligible if phone in changes and phone not in runs.changes}
    event(f"opt-outs that raced a claim: {min(sum(changes[p] in OPT_OUTS for p in raced), 3)}+")
    assert raced == {phone for phone in eligible if phone in changes}, "every change landed between read and claim"
    assert len(received) == len(set(received)), "a contact got two texts in one run"
    assert not [p for p in received if changes.get(p) in OPT_OUTS], "a text after an opt-out"
    assert set(received) <= eligible
    assert {p for p in eligible if p not in changes} <= set(received), "a text lost to the claim's check"
