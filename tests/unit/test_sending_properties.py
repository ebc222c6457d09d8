"""Invariants of a whole run (tick, plan, STOPs racing the sender, redelivered
jobs, send) over generated contacts."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from chalicelib.domain.contact import ConsentState, Deliverability, DeliverabilityState
from chalicelib.domain.inbound import InboundSms
from chalicelib.services.inbound import handle_inbound
from tests.fakes import InMemoryPromptBook
from tests.unit.test_runs import REPLIES, SEND_AT, World

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
