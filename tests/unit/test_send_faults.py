"""Whole runs through injected faults: any store or Twilio call failing before
it happens or crashing the sender after it, jobs redelivered in any order and
twice, Twilio down for a while or losing its answers. Invariants: nobody gets
two texts from one run, nobody opted out or undeliverable gets one, every
planned text ends settled, and the run's counts add up."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from chalicelib.domain.contact import (
    Attribute,
    ConsentState,
    Deliverability,
    DeliverabilityState,
    HomeLocation,
    TimeZone,
)
from chalicelib.domain.inbound import InboundSms
from chalicelib.domain.ledger import (
    DROPPED,
    LEASE,
    OUT,
    PLANNED,
    SETTLED_COUNTS,
    TERMINAL,
    UNKNOWN,
    Fate,
    LedgerState,
    pending,
)
from chalicelib.domain.policy import PolicySettings
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.ports import SendResult
from chalicelib.services.send_claim import LEASE_SLACK_S
from chalicelib.services.send_text import SendContext, SendJob
from chalicelib.services.sending import send_one
from tests.fakes import InMemoryPromptBook, StepClock
from tests.faults import VISIBILITY, Fault, Faults, Faulty, FlakyTwilio, InjectedFaultError, drive
from tests.world import REPLIES, World

RUN = "cmp_leeds@20260602T100000+0000"
OPERATIONS = [
    "runs.get_run",
    "runs.take_slot",
    "runs.senders.take_slot",
    "runs.ledger.claim",
    "runs.ledger.settle",
    "store.unit.commit",  # the record: message, contact, entry, decision and count together
    "store.get_contacts",
    "store.get_contact",
    "store.messages.with_contact",
    "twilio.send",
    "twilio.find_sent",
]

people = st.lists(  # mostly people a text may go to, so that most examples send
    st.tuples(
        st.sampled_from([ConsentState.OPTED_IN] * 4 + [ConsentState.OPTED_OUT, ConsentState.UNKNOWN]),
        st.sampled_from([DeliverabilityState.OK] * 4 + [DeliverabilityState.UNDELIVERABLE]),
    ),
    min_size=1,
    max_size=10,
)
fault_plans = st.dictionaries(
    st.tuples(st.sampled_from(OPERATIONS), st.integers(1, 5)), st.sampled_from(list(Fault)), max_size=8
)


def faulty_context(world: World, faults: Faults, twilio: FlakyTwilio) -> SendContext:
    return SendContext(
        Faulty(world.campaigns, "campaigns", faults),
        Faulty(world.runs, "runs", faults),
        Faulty(world.store, "store", faults),
        world.send_queue,
        Faulty(twilio, "twilio", faults),
        world.clock,
        PolicySettings(),
        "Pizza Co",
        InMemoryPromptBook(),
        world.directory,
    )


def check_run(world: World, twilio: FlakyTwilio, phones: list[str], eligible: set[str]) -> None:
    texts = Counter(to for to, *_ in twilio.accepted)
    assert all(n == 1 for n in texts.values()), f"two texts to one contact: {texts}"
    assert set(texts) <= eligible, "a text to someone opted out or undeliverable"
    entries = {phone: entry for phone in phones if (entry := world.runs.ledger.entry(RUN, phone))}
    assert all(entry.state in TERMINAL for entry in entries.values()), entries
    run = world.runs.get_run(RUN)
    assert run is not None
    settled = sum(run.counts.get(name, 0) for name in SETTLED_COUNTS)
    assert run.counts.get(PLANNED, 0) == settled, run.counts  # nothing pending once the queue is empty
    sent = {phone for phone, entry in entries.items() if entry.state == LedgerState.SENT}
    assert run.counts.get(OUT, 0) == len(sent)
    assert all(world.store.messages.thread(phone) for phone in sent), "a sent text without its message"
    assert run.counts.get(OUT, 0) <= len(texts) <= run.counts.get(OUT, 0) + run.counts.get(UNKNOWN, 0)


def opt_out(world: World, phone: str) -> None:
    stop = InboundSms(f"SMstop{uuid.uuid4().hex}", phone, "+15005550006", "STOP", world.clock.now())
    handle_inbound(stop, world.store, REPLIES, world.runs, InMemoryPromptBook())


def rename(world: World, phone: str) -> None:
    """The text is personalised (Hi {first_name|there}): a new name, a new body."""
    contact = world.store.get_contact(phone)
    assert contact is not None
    name = Attribute(value=f"Ann{contact.version}", source="api", updated_at=world.clock.now())
    world.store.save_contact(contact.model_copy(update={"attributes": {"first_name": name}}), contact.version)


def move_abroad(world: World, phone: str) -> None:
    """10:00 UTC is 03:00 in Los Angeles: quiet hours hold the text."""
    contact = world.store.get_contact(phone)
    assert contact is not None
    moved = contact.model_copy(update={"time_zone": TimeZone(confirmed="America/Los_Angeles")})
    world.store.save_contact(moved, contact.version)


CHANGES: dict[str, Callable[[World, str], None]] = {
    "opts_out": opt_out,
    "renamed": rename,
    "moves_abroad": move_abroad,
    "nothing": lambda _world, _phone: None,
}


@settings(max_examples=250, deadline=None)
@given(
    people=people,
    plan=fault_plans,
    down=st.integers(0, 4),
    lost=st.frozensets(st.integers(1, 12), max_size=2),
    seed=st.integers(0, 2**16),
    changes=st.lists(st.sampled_from(["opts_out", "renamed", "nothing"]), max_size=4),
)
def test_faults_in_any_step_lose_no_text_and_send_none_twice(
    people: list[tuple[ConsentState, DeliverabilityState]],
    plan: dict[tuple[str, int], Fault],
    down: int,
    lost: frozenset[int],
    seed: int,
    changes: list[str],
) -> None:
    world = World()
    world.campaign(messages_per_second=50)
    phones = [f"+4477009004{i:02d}" for i in range(len(people))]
    for phone, (consent, deliverable) in zip(phones, people, strict=True):
        world.contact(phone, consent=consent, deliverability=Deliverability(state=deliverable))
    eligible = {
        phone
        for phone, (consent, deliverable) in zip(phones, people, strict=True)
        if consent == ConsentState.OPTED_IN and deliverable == DeliverabilityState.OK
    }
    world.tick()
    world.plan()
    faults = Faults(plan=dict(plan))
    twilio = FlakyTwilio(world.clock, down=down, lost_answers=lost)
    stopped: dict[str, Any] = {}

    def contact_changes(job: dict[str, Any]) -> None:  # between a crashed sender and its job's redelivery
        if changes:
            change = changes.pop(0)
            if change == "opts_out":
                stopped.setdefault(job["phone"], world.clock.current)
            CHANGES[change](world, job["phone"])

    ctx = faulty_context(world, faults, twilio)
    outcomes = drive(world.send_queue.take(), ctx, world.clock, random.Random(seed), after_crash=contact_changes)
    event(f"faults fired: {min(len(faults.fired), 3)}+")
    event(f"reconciled: {Fate.RECONCILED in outcomes}")
    event(f"opted out after a crash: {bool(stopped)}")
    check_run(world, twilio, phones, eligible)
    assert all(at <= stopped[to] for to, _, at, _ in twilio.accepted if to in stopped), "a text after a STOP"
    assert not world.table.items(lambda item: item.get("state") == {"S": LedgerState.SENDING}), "an entry left sending"


def test_a_sender_killed_after_twilio_took_the_text_is_reconciled_not_resent() -> None:
    world = World()
    world.campaign(messages_per_second=50)
    world.contact("+447700900401")
    world.tick()
    world.plan()
    faults = Faults(plan={("twilio.send", 1): Fault.AFTER})
    twilio = FlakyTwilio(world.clock)
    outcomes = drive(world.send_queue.take(), faulty_context(world, faults, twilio), world.clock, random.Random(1), 0)
    assert outcomes == [Fate.RECONCILED] and len(twilio.sent) == 1
    check_run(world, twilio, ["+447700900401"], {"+447700900401"})


def test_a_sender_killed_before_the_twilio_call_is_taken_over_and_sends_once() -> None:
    world = World()
    world.campaign(messages_per_second=50)
    world.contact("+447700900402")
    world.tick()
    world.plan()
    faults = Faults(plan={("runs.ledger.claim", 1): Fault.AFTER})  # claimed `sending`, then killed
    twilio = FlakyTwilio(world.clock)
    outcomes = drive(world.send_queue.take(), faulty_context(world, faults, twilio), world.clock, random.Random(2), 0)
    assert outcomes == [Fate.SENT] and len(twilio.sent) == 1
    check_run(world, twilio, ["+447700900402"], {"+447700900402"})


def test_when_twilio_cannot_be_asked_the_text_is_settled_unknown_never_resent() -> None:
    world = World()
    world.campaign(messages_per_second=50)
    world.contact("+447700900403")
    world.tick()
    world.plan()
    twilio = FlakyTwilio(world.clock)
    twilio.lookup_fails = True
    faults = Faults(plan={("runs.ledger.claim", 1): Fault.AFTER})
    outcomes = drive(world.send_queue.take(), faulty_context(world, faults, twilio), world.clock, random.Random(3), 0)
    assert outcomes == [Fate.UNKNOWN] and twilio.sent == []
    run = world.runs.get_run(RUN)
    assert run is not None and run.counts[UNKNOWN] == 1


DEAD = "+447700900410"
DEATHS = {  # how the first sender died, and what Twilio can say about it afterwards
    "twilio_took_it": ({("twilio.send", 1): Fault.AFTER}, False),
    "twilio_never_got_it": ({("runs.ledger.claim", 1): Fault.AFTER}, False),
    "twilio_unreachable": ({("twilio.send", 1): Fault.AFTER}, True),
}
# (death, change) -> what the redelivered job does, how many texts went, the entry's end state
AFTER_A_DEATH = {
    ("twilio_took_it", "nothing"): (Fate.RECONCILED, 1, LedgerState.SENT),
    ("twilio_took_it", "renamed"): (Fate.RECONCILED, 1, LedgerState.SENT),  # found by the body it claimed
    ("twilio_took_it", "opts_out"): (Fate.RECONCILED, 1, LedgerState.SENT),  # it went before the STOP
    ("twilio_took_it", "moves_abroad"): (Fate.RECONCILED, 1, LedgerState.SENT),
    ("twilio_never_got_it", "nothing"): (Fate.SENT, 1, LedgerState.SENT),
    ("twilio_never_got_it", "renamed"): (Fate.SENT, 1, LedgerState.SENT),
    ("twilio_never_got_it", "opts_out"): (Fate.DROPPED, 0, LedgerState.DROPPED),
    ("twilio_never_got_it", "moves_abroad"): (Fate.HELD, 0, LedgerState.RELEASED),
    ("twilio_unreachable", "nothing"): (Fate.UNKNOWN, 1, LedgerState.UNKNOWN),
    ("twilio_unreachable", "renamed"): (Fate.UNKNOWN, 1, LedgerState.UNKNOWN),
    ("twilio_unreachable", "opts_out"): (Fate.UNKNOWN, 1, LedgerState.UNKNOWN),
    ("twilio_unreachable", "moves_abroad"): (Fate.UNKNOWN, 1, LedgerState.UNKNOWN),
}


def killed_after_the_claim(death: str) -> tuple[World, FlakyTwilio, SendContext, dict[str, Any]]:
    """One text, its sender killed after claiming it (and maybe after Twilio took it)."""
    world = World()
    world.campaign(messages_per_second=50)
    world.contact(DEAD)
    world.tick()
    world.plan()
    (job,) = world.send_queue.take()
    plan, lookup_fails = DEATHS[death]
    twilio = FlakyTwilio(world.clock)
    twilio.lookup_fails = lookup_fails
    ctx = faulty_context(world, Faults(plan=dict(plan)), twilio)
    with pytest.raises(InjectedFaultError):
        send_one(as_job(job), ctx)
    assert world.ledger(RUN, DEAD).state == LedgerState.SENDING
    return world, twilio, ctx, job


@pytest.mark.parametrize(("death", "change"), list(AFTER_A_DEATH))
def test_a_dead_senders_text_is_reconciled_whatever_the_contact_did_before_its_job_came_back(
    death: str, change: str
) -> None:
    world, twilio, ctx, job = killed_after_the_claim(death)
    CHANGES[change](world, DEAD)
    world.clock.current += VISIBILITY  # SQS hands the job back once the lease has run out
    outcomes = drive([job], ctx, world.clock, random.Random(5), duplicates=0)
    outcome, texts, state = AFTER_A_DEATH[(death, change)]
    assert outcomes == [outcome]
    assert len(twilio.sent) == texts, twilio.sent  # never a second text
    entry = world.ledger(RUN, DEAD)
    assert entry.state == state and entry.lease_until is None
    run = world.runs.get_run(RUN)
    assert run is not None
    # planned = out + failed + unknown + dropped + pending
    assert pending(run.counts) == (state == LedgerState.RELEASED)
    assert run.counts.get(OUT, 0) == (state == LedgerState.SENT)
    assert run.counts.get(UNKNOWN, 0) == (state == LedgerState.UNKNOWN)
    assert run.counts.get(DROPPED, 0) == (state == LedgerState.DROPPED)
    if state == LedgerState.SENT:
        (message,) = [message for message in world.store.messages.thread(DEAD) if message.run_id == RUN]
        assert message.body == twilio.accepted[0][1]  # the body that went, not one derived again
    if state == LedgerState.RELEASED:
        assert [hold.phone for hold in world.holds()] == [DEAD]  # the tick brings it back


def test_a_dead_senders_question_is_found_and_awaits_its_answer_though_the_campaign_text_would_go_now() -> None:
    world = World()
    world.campaign(messages_per_second=50)
    world.contact(DEAD, home=HomeLocation(area="LS61AA", confirmed_at=world.clock.now() - timedelta(days=200)))
    world.tick()
    world.plan()
    (job,) = world.send_queue.take()
    twilio = FlakyTwilio(world.clock)
    ctx = faulty_context(world, Faults(plan={("twilio.send", 1): Fault.AFTER}), twilio)
    with pytest.raises(InjectedFaultError):
        send_one(as_job(job), ctx)  # "are you still near Leeds?" went
    contact = world.get_contact(DEAD)
    confirmed = contact.model_copy(update={"home": HomeLocation(area="LS61AA", confirmed_at=world.clock.now())})
    world.store.save_contact(confirmed, contact.version)  # now the 2-for-1 text would go instead
    world.clock.current += VISIBILITY
    assert drive([job], ctx, world.clock, random.Random(7), duplicates=0) == [Fate.RECONCILED]
    assert len(twilio.sent) == 1 and "still near Leeds" in twilio.sent[0][1]
    pending_prompt = world.get_contact(DEAD).pending_prompt
    assert pending_prompt is not None and pending_prompt.prompt_id == "still_near"


@pytest.mark.parametrize("change", ["nothing", "opts_out"])
def test_a_job_meeting_a_live_lease_comes_back_when_it_ends_not_dropped_as_a_duplicate(change: str) -> None:
    world, twilio, ctx, job = killed_after_the_claim("twilio_never_got_it")
    CHANGES[change](world, DEAD)
    assert send_one(as_job(job), ctx) == Fate.LEASED  # a second delivery of the job, the lease still live
    ((again, delay),) = world.send_queue.jobs
    assert again == as_job(job).body() and delay >= (LEASE + timedelta(seconds=LEASE_SLACK_S)).total_seconds() - 1
    world.send_queue.jobs.clear()  # that delivery's message is the one left: the first is gone with it
    world.clock.current += timedelta(seconds=delay)
    outcomes = drive([again], ctx, world.clock, random.Random(6), duplicates=0)
    assert outcomes == [Fate.SENT if change == "nothing" else Fate.DROPPED]
    assert world.ledger(RUN, DEAD).state in TERMINAL
    assert len(twilio.sent) == (change == "nothing")


class StaleBatchReads:
    """The batch read as it was before either run sent (a sender that read its
    batch long ago); a contact read again is read fresh."""

    def __init__(self, world: World) -> None:
        self._store = world.store
        self._seen = {contact.phone: contact for page in world.store.scan_contacts(0, 1) for contact in page}

    def __getattr__(self, name: str) -> Any:
        if name == "get_contacts":
            return lambda phones: [self._seen[phone] for phone in phones if phone in self._seen]
        return getattr(self._store, name)


class RaceAtTwilio(FlakyTwilio):
    """While one text is at Twilio (claimed, not yet recorded) another job for
    the same contact runs: two senders at the same moment."""

    def __init__(self, clock: StepClock) -> None:
        super().__init__(clock)
        self.racing: dict[str, Callable[[], object]] = {}

    def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
        result = super().send(to, body, valid_for_s, origin)
        if (other := self.racing.pop(to, None)) is not None:
            other()
        return result


def two_campaigns(world: World) -> list[str]:
    world.campaign(messages_per_second=50)
    world.campaigns.save(world.get_campaign("cmp_leeds").model_copy(update={"id": "cmp_other", "version": 0}), None)
    phones = [f"+4477009005{i:02d}" for i in range(6)]
    for phone in phones:
        world.contact(phone)
    world.tick()
    world.plan()
    return phones


def as_job(body: dict[str, Any]) -> SendJob:
    return SendJob(body["run_id"], body["campaign_id"], body["phone"])


def test_two_campaigns_to_one_audience_at_the_same_minute_send_one_text_each() -> None:
    world = World()
    phones = two_campaigns(world)
    jobs = world.send_queue.take()
    twilio = RaceAtTwilio(world.clock)
    ctx = faulty_context(world, Faults(), twilio)
    outcomes: list[Fate] = []

    def sender(job: dict[str, Any]) -> Callable[[], object]:
        return lambda: outcomes.append(send_one(as_job(job), ctx))

    for job in jobs:
        if job["campaign_id"] == "cmp_other":  # sent while the first run's text to the contact is at Twilio
            twilio.racing[job["phone"]] = sender(job)
    outcomes += [send_one(as_job(job), ctx) for job in jobs if job["campaign_id"] == "cmp_leeds"]
    assert sorted(to for to, *_ in twilio.accepted) == phones  # one each
    assert Counter(outcomes) == {Fate.SENT: 6, Fate.DROPPED: 6}
    dropped = [d for phone in phones for d in world.runs.holds.decisions_for(phone) if d.reason == "smart_sending"]
    assert len(dropped) == len(phones)  # the other run's text: both passed the policy, the marketing slot refused


def test_a_batch_read_made_stale_by_the_other_runs_text_is_caught_by_the_claim() -> None:
    world = World()
    phones = two_campaigns(world)
    twilio = FlakyTwilio(world.clock)
    racing = replace(faulty_context(world, Faults(), twilio), store=StaleBatchReads(world))  # both pass the policy
    drive(world.send_queue.take(), racing, world.clock, random.Random(4), 0.2)
    assert sorted(to for to, *_ in twilio.accepted) == phones  # one each, from whichever run came first
    for phone in phones:  # the later run read the contact again and decided again: not sent
        later = [d for d in world.runs.holds.decisions_for(phone) if d.stage == "at_send" and d.outcome != "sent"]
        assert [d.verdict for d in later] == ["drop"], later
