"""Runs end to end on the fakes: the tick starts them, shards plan them, the
sender re-decides, claims once, paces and records."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from chalicelib.adapters.dynamodb_holds import HOLDS_PAGE
from chalicelib.adapters.table_layout import run_key
from chalicelib.adapters.unit_of_work import DynamoUnitOfWork
from chalicelib.domain.campaign import Campaign, CampaignStatus
from chalicelib.domain.contact import ConsentState, Engagement, HomeLocation
from chalicelib.domain.delivery import Receipt
from chalicelib.domain.inbound import InboundSms
from chalicelib.domain.ledger import OPTED_OUT, OUT, UNDELIVERED, Fate, LedgerState
from chalicelib.domain.messages import DeliveryStatus
from chalicelib.domain.policy import Purpose
from chalicelib.domain.runs import BreakerSettings, Hold, Run, minute_of, run_id
from chalicelib.services import runs
from chalicelib.services.campaigns import pause_campaign, resume_campaign
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.ports import SendOutcome, SendResult
from chalicelib.services.send_text import DEFAULT_TIMING, SendJob, SendTiming
from chalicelib.services.sending import send_one
from chalicelib.services.status import record_status
from tests.fakes import (
    InMemoryCampaignStore,
    InMemoryPromptBook,
    StepClock,
)
from tests.world import REPLIES, SEND_AT, SHARDS, World


@pytest.fixture
def world() -> World:
    return World()


def test_a_due_campaign_starts_one_run_planned_in_shards(world: World) -> None:
    world.campaign()
    report = world.tick()
    assert report.started == ["cmp_leeds@20260602T100000+0000"]
    assert [job["shard"] for job, _ in world.plan_queue.jobs if job["kind"] == "plan"] == [0, 1]
    assert world.tick().started == []  # the next tick: already running
    assert world.get_campaign("cmp_leeds").last_run_for == SEND_AT


def test_future_paused_and_stale_campaigns_do_not_start(world: World) -> None:
    world.campaign(id="cmp_future", send_at=SEND_AT + timedelta(hours=1))
    world.campaign(id="cmp_paused", status=CampaignStatus.PAUSED)
    world.campaign(id="cmp_stale", send_at=SEND_AT - timedelta(hours=25))  # past its 24 h relevance
    assert world.tick().started == []


def test_a_recurring_campaign_runs_at_each_local_time_across_a_clock_change(world: World) -> None:
    # Fridays 18:00 London: 17:00 UTC in summer, 18:00 UTC after the October change
    world.campaign(cron="0 18 * * FRI", send_at=datetime(2026, 10, 1, tzinfo=UTC), relevance_hours=2)
    started = []
    for at in ("2026-10-23T17:00", "2026-10-23T17:30", "2026-10-30T17:00", "2026-10-30T18:00"):
        world.clock.current = datetime.fromisoformat(at).replace(tzinfo=UTC)
        started += world.tick().started
    assert started == ["cmp_leeds@20261023T180000+0100", "cmp_leeds@20261030T180000+0000"]


def test_planning_records_every_decision_and_queues_only_sends(world: World) -> None:
    world.campaign()
    world.contact("+447700900001")
    world.contact("+447700900002", consent=ConsentState.OPTED_OUT)
    world.contact("+447700900003", home=HomeLocation(area="SW1A1AA", confirmed_at=SEND_AT - timedelta(days=3)))
    world.contact("+447700900004", tags=["other"])  # not in the audience: no decision at all
    world.tick()
    world.plan()
    assert [job["phone"] for job, _ in world.send_queue.jobs] == ["+447700900001"]
    run = world.runs.get_run("cmp_leeds@20260602T100000+0000")
    assert run is not None and run.counts == {"send/clear": 1, "drop/opted_out": 1, "drop/out_of_area": 1, "planned": 1}
    assert world.runs.holds.decisions_for("+447700900003")[0].reason == "out_of_area"
    assert world.runs.holds.decisions_for("+447700900004") == []


def test_a_replayed_shard_counts_once_and_sends_once(world: World) -> None:
    world.campaign()
    world.contact("+447700900001")
    world.tick()
    jobs = list(world.plan_queue.jobs)
    world.plan()
    world.plan_queue.jobs = list(jobs)  # SQS delivers the finished shard jobs again: nothing to do
    world.plan()
    key = "cmp_leeds@20260602T100000+0000"
    world.table.client.update_item(  # as if it crashed before the end
        TableName=world.table.name,
        Key=run_key(key),
        UpdateExpression="SET shards_done = :none, counts = :nothing",
        ExpressionAttributeValues={":none": {"L": []}, ":nothing": {"M": {}}},
    )
    world.plan_queue.jobs = list(jobs)
    world.plan()
    assert world.send() == [Fate.SENT, Fate.DUPLICATE]
    assert world.received() == ["+447700900001"]
    run = world.runs.get_run("cmp_leeds@20260602T100000+0000")
    assert run is not None and run.counts["send/clear"] == 1 and run.counts[OUT] == 1


def test_a_stop_between_planning_and_sending_wins(world: World) -> None:
    world.campaign()
    world.contact("+447700900001")
    world.tick()
    world.plan()
    handle_inbound(
        InboundSms("SMstop", "+447700900001", "+15005550006", "STOP", world.clock.now()),
        world.store,
        REPLIES,
        world.runs,
        InMemoryPromptBook(),
    )
    assert world.send() == [Fate.DROPPED]
    assert world.received() == []
    assert world.runs.holds.decisions_for("+447700900001")[0].reason == "opted_out"


def test_a_sent_text_updates_engagement_and_carries_the_deadline(world: World) -> None:
    world.campaign()
    world.contact("+447700900001", attributes={})
    world.tick()
    world.plan()
    assert world.send() == [Fate.SENT]
    to, body, valid_for, _ = world.sender.sent[0]
    assert body == "Hi there, 2-for-1 tonight"
    assert valid_for == 36_000  # Twilio's longest validity: the deadline is 24 h away
    contact = world.get_contact(to)
    assert contact.engagement.unanswered_marketing == 1 and len(contact.engagement.marketing_sent_at) == 1
    assert contact.engagement.last_run_id == "cmp_leeds@20260602T100000+0000"
    [message] = world.store.messages.thread(to)
    assert message.run_id == contact.engagement.last_run_id and message.status == DeliveryStatus.QUEUED
    assert world.runs.holds.decisions_for(to)[0].outcome == "sent"


def test_a_stale_location_gets_the_question_instead_and_it_awaits_an_answer(world: World) -> None:
    world.campaign()
    world.contact("+447700900001", home=HomeLocation(area="LS61AA", confirmed_at=SEND_AT - timedelta(days=200)))
    world.tick()
    world.plan()
    assert world.send() == [Fate.SENT]
    assert world.sender.sent[0][1] == "Pizza Co: are you still near Leeds? Reply YES, or send us your postcode or ZIP."
    contact = world.get_contact("+447700900001")
    assert contact.pending_prompt is not None and contact.pending_prompt.prompt_id == "still_near"
    assert contact.engagement.marketing_sent_at == []  # a question is not a promotion


def test_quiet_hours_at_send_time_hold_until_the_window_opens_then_the_tick_releases(world: World) -> None:
    world.campaign(send_at=SEND_AT + timedelta(hours=10), relevance_hours=24)  # 21:00 in London: closed
    world.contact("+447700900001")
    world.clock.current = SEND_AT + timedelta(hours=10)
    world.tick()  # first tick: the cursor starts here
    world.plan()
    assert world.send_queue.jobs == [] and world.received() == []
    for hour in range(1, 12):  # the tick runs every minute; hourly here, it catches up in steps
        world.clock.current = SEND_AT + timedelta(hours=10 + hour)
        world.tick()
        world.plan()
        assert world.send() == []
    world.clock.current = datetime(2026, 6, 3, 7, 2, tzinfo=UTC)  # 08:02 in London
    world.tick()
    world.plan()
    assert world.send() == [Fate.SENT]
    assert world.runs.holds.decisions_for("+447700900001")[0].outcome == "sent"


@pytest.mark.parametrize(
    "timing",
    [DEFAULT_TIMING, SendTiming(timedelta(seconds=16), retry_first_s=1, retry_max_s=60)],
    ids=["aws", "scaled"],
)
def test_twilio_down_is_retried_with_capped_jittered_backoff_until_the_deadline(timing: SendTiming) -> None:
    """The backoff follows the timing settings (the e2e outage runs them scaled down, SEND_RETRY_*_SECONDS)."""
    world = World(timing=timing)
    campaign = world.campaign(relevance_hours=4)  # 11:00 to 15:00 in London: quiet hours never decide
    world.contact("+447700900001", engagement=Engagement(last_inbound_at=SEND_AT))
    busy = SendResult(SendOutcome.RETRY, error_code=20500, detail="HTTP 500")
    world.sender.answers = [busy] * 1000
    world.tick()
    world.plan()
    outcomes, delays = [], []
    while world.send_queue.jobs:
        [(_, delay)] = world.send_queue.jobs
        delays.append(delay)
        world.clock.current += timedelta(seconds=delay)  # SQS hands it back after its delay
        outcomes += world.send()
    assert outcomes == [Fate.RETRY] * (len(outcomes) - 1) + [Fate.FAILED]
    first, most = timing.retry_first_s, timing.retry_max_s
    caps = [min(most, first << n) for n in range(len(delays) - 1)]
    assert all(cap / 2 <= delay <= cap for delay, cap in zip(delays[1:], caps, strict=True))
    assert max(delays) > most / 2  # the cap was reached
    assert world.clock.current <= SEND_AT + timedelta(hours=campaign.relevance_hours)
    assert world.clock.current >= SEND_AT + timedelta(hours=campaign.relevance_hours) - timedelta(seconds=most)
    assert world.ledger("cmp_leeds@20260602T100000+0000", "+447700900001").state == LedgerState.FAILED
    run = world.runs.get_run("cmp_leeds@20260602T100000+0000")
    assert run is not None and run.counts.get(OUT, 0) == 0 and run.counts["failed"] == 1  # retries are not texts out
    contact = world.get_contact("+447700900001")
    assert contact.deliverability.state == "ok"  # a platform error says nothing about the number


def test_an_unknown_outcome_is_recorded_and_never_resent(world: World) -> None:
    world.campaign()
    world.contact("+447700900001")
    world.sender.answers = [SendResult(SendOutcome.UNKNOWN, detail="no answer in time")]
    world.tick()
    world.plan()
    jobs = list(world.send_queue.jobs)
    assert world.send() == [Fate.UNKNOWN]
    assert world.send([job for job, _ in jobs]) == [Fate.DUPLICATE]
    assert len(world.sender.sent) == 1
    assert world.runs.holds.decisions_for("+447700900001")[0].outcome == "unknown"


def test_a_refusal_for_an_unsubscribed_number_records_the_opt_out(world: World) -> None:
    world.campaign()
    world.contact("+447700900001")
    world.sender.answers = [SendResult(SendOutcome.REJECTED, error_code=21610, detail="unsubscribed")]
    world.tick()
    world.plan()
    assert world.send() == [Fate.FAILED]
    assert world.get_contact("+447700900001").consent == ConsentState.OPTED_OUT


def test_sends_are_paced_to_the_campaigns_rate(world: World) -> None:
    world.campaign(messages_per_second=4)
    for i in range(12):
        world.contact(f"+4477009001{i:02d}")
    world.tick()
    world.plan()
    world.send()
    times = [at for *_, at in world.sender.sent]
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    assert len(times) == 12 and min(gaps) >= 0.25


def test_the_breaker_pauses_a_run_that_causes_opt_outs(world: World) -> None:
    world.breaker = BreakerSettings(minimum_out=4, max_opt_out_rate=0.2)
    jobs = world.started([f"+4477009002{i:02d}" for i in range(8)], messages_per_second=100)
    assert world.send(jobs[:4]) == [Fate.SENT] * 4
    for n, phone in enumerate(world.received()[:2]):  # two of the four opt out: 50%
        sms = InboundSms(f"SMstop{n}", phone, "+15005550006", "STOP", world.clock.now())
        handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook())
    assert world.send(jobs[4:]) == [Fate.PAUSED] * 4
    campaign = world.get_campaign("cmp_leeds")
    assert campaign.status == CampaignStatus.PAUSED and "opt-outs" in (campaign.paused_reason or "")
    run = world.runs.get_run("cmp_leeds@20260602T100000+0000")
    assert run is not None and run.counts[OPTED_OUT] == 2 and run.breaker
    assert len(world.sender.sent) == 4


def test_the_breakers_trip_and_the_campaigns_pause_are_one_write(world: World) -> None:
    """A sender dying while the breaker pauses leaves neither the run tripped nor the
    campaign paused (it used to trip the run, then pause the campaign: two writes)."""
    world.breaker = BreakerSettings(minimum_out=4, max_opt_out_rate=0.2)
    jobs = world.started([f"+4477009003{i:02d}" for i in range(6)], messages_per_second=100)
    assert world.send(jobs[:4]) == [Fate.SENT] * 4
    for n, phone in enumerate(world.received()[:2]):
        sms = InboundSms(f"SMstop{n}", phone, "+15005550006", "STOP", world.clock.now())
        handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook())
    opened = world.runs.unit

    class Dies(DynamoUnitOfWork):
        def commit(self) -> None:
            raise RuntimeError("the Lambda timed out in the write")

    world.runs.unit = lambda: Dies(world.table.client)  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        world.send(jobs[4:5])
    world.runs.unit = opened  # type: ignore[method-assign]
    run = world.runs.get_run("cmp_leeds@20260602T100000+0000")
    assert run is not None and run.breaker is None
    assert world.get_campaign("cmp_leeds").status == CampaignStatus.ACTIVE
    assert world.send(jobs[4:]) == [Fate.PAUSED] * 2  # the job again: tripped and paused together
    run = world.runs.get_run("cmp_leeds@20260602T100000+0000")
    assert run is not None and run.breaker and run.breaker == world.get_campaign("cmp_leeds").paused_reason
    assert len(world.sender.sent) == 4


def test_failure_receipts_count_against_the_run_once(world: World) -> None:
    world.campaign()
    world.contact("+447700900001")
    world.tick()
    world.plan()
    world.send()
    sid = world.sender.sent and world.store.messages.thread("+447700900001")[0].sid
    for status in ("undelivered", "undelivered", "failed"):
        receipt = Receipt(str(sid), DeliveryStatus(status), "+447700900001", "+15005550006", world.clock.now(), 30007)
        record_status(receipt, world.store, world.runs)
    run = world.runs.get_run("cmp_leeds@20260602T100000+0000")
    assert run is not None and run.counts[UNDELIVERED] == 1


def test_a_receipt_that_arrives_before_the_send_is_recorded_keeps_its_events(world: World) -> None:
    world.campaign(purpose=Purpose.MARKETING)
    world.contact("+447700900001")
    world.tick()
    world.plan()
    sid = "SM" + "a" * 32
    early = Receipt(sid, DeliveryStatus.SENT, "+447700900001", "+15005550006", world.clock.now())
    record_status(early, world.store, world.runs)  # Twilio's callback beat our own write
    world.sender.answers = [SendResult(SendOutcome.ACCEPTED, sid=sid, from_number="+15005550006")]
    assert world.send() == [Fate.SENT]
    message, _ = world.store.messages.with_contact("+447700900001", sid)
    assert message is not None and message.run_id and message.body and message.status == DeliveryStatus.SENT


def test_a_question_campaign_asks_everyone_once_and_sets_the_pending_question(world: World) -> None:
    world.campaign(message=None, prompt_id="interests", purpose=Purpose.QUESTION, location=None)
    world.contact("+447700900001")
    world.contact("+447700900002", consent=ConsentState.OPTED_OUT)
    world.contact("+447700900003", consent=ConsentState.UNKNOWN)  # a campaign's question needs opt-in too
    world.tick()
    world.plan()
    assert world.send() == [Fate.SENT]
    [(to, body, *_)] = world.sender.sent
    assert to == "+447700900001" and body.startswith("Pizza Co: what would you like to hear about?")
    contact = world.get_contact(to)
    assert contact.pending_prompt is not None and contact.pending_prompt.prompt_id == "interests"
    assert contact.engagement.marketing_sent_at == []

    world.campaigns.save(
        world.get_campaign("cmp_leeds").model_copy(update={"id": "cmp_second", "last_run_for": None}), None
    )
    world.tick()
    world.plan()  # a second question waits while the first awaits its answer
    run = world.runs.get_run("cmp_second@20260602T100000+0000")
    assert run is not None
    assert run.counts == {"hold/in_conversation": 1, "drop/opted_out": 1, "drop/no_consent": 1, "planned": 1}


class BrokenCampaigns(InMemoryCampaignStore):
    """Saving one campaign fails, as a throttled or broken write would."""

    def __init__(self, broken: str) -> None:
        super().__init__()
        self.broken = broken

    def save(self, campaign: Campaign, expected_version: int | None) -> None:
        if campaign.id == self.broken and campaign.last_run_for is not None:
            raise RuntimeError("DynamoDB said no")
        super().save(campaign, expected_version)


def test_one_campaign_failing_does_not_stop_the_others_or_the_hold_releases(world: World) -> None:
    world.campaigns = BrokenCampaigns("cmp_broken")
    world.campaign()
    world.campaigns.save(world.get_campaign("cmp_leeds").model_copy(update={"id": "cmp_broken"}), None)
    world.set_cursor(SEND_AT - timedelta(minutes=5))
    report = world.tick()
    assert report.started == ["cmp_leeds@20260602T100000+0000"]
    assert list(report.failed) == ["cmp_broken"] and "DynamoDB said no" in report.failed["cmp_broken"]
    assert report.released_minutes > 0  # hold releases went on
    # the broken one's run exists with its plan jobs: the next tick repeats the start, a replay
    assert world.runs.get_run("cmp_broken@20260602T100000+0000") is not None
    world.campaigns.broken = ""
    assert world.tick().started == []  # recorded now; its run was created (and queued) by the first tick
    shards = [
        job["shard"] for job, _ in world.plan_queue.jobs if job.get("run_id") == "cmp_broken@20260602T100000+0000"
    ]
    assert sorted(set(shards)) == [0, 1]


def test_a_hold_filed_at_a_minute_already_released_is_queued_at_once(world: World) -> None:
    world.set_cursor(SEND_AT + timedelta(minutes=10))  # the tick is ahead of this planner's clock
    hold = Hold.filed("cmp_leeds@20260602T100000+0000", "cmp_leeds", "+447700900001", SEND_AT, SEND_AT)
    runs.file_holds([hold], world.runs, world.send_queue)
    assert [job["phone"] for job, _ in world.send_queue.jobs] == ["+447700900001"]
    assert world.holds() == []


RUN = "cmp_leeds@20260602T100000+0000"


def trip_and_hold(world: World, count: int) -> list[str]:
    """A run to `count` contacts; the first two texts bring two STOPs, the breaker trips, the rest is held."""
    world.breaker = BreakerSettings(minimum_out=2, max_opt_out_rate=0.2)
    phones = [f"+4477009007{i:02d}" for i in range(count)]
    jobs = world.started(phones, messages_per_second=100)
    assert world.send(jobs[:2]) == [Fate.SENT] * 2
    for n, phone in enumerate(world.received()):  # both opt out: the breaker trips
        sms = InboundSms(f"SMstop{n}", phone, "+15005550006", "STOP", world.clock.now())
        handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook())
    assert world.send(jobs[2:]) == [Fate.PAUSED] * (count - 2)
    return phones


def minutes_pass(world: World, minutes: int, deliveries: int = 1) -> list[Fate]:
    """The tick every minute, the releases it queues, the sends they queue (each delivered `deliveries` times)."""
    outcomes: list[Fate] = []
    for _ in range(minutes):
        world.clock.current += timedelta(minutes=1)
        world.tick()
        world.plan()
        jobs = world.send_queue.take()
        for _ in range(deliveries):
            outcomes += world.send(jobs)
    return outcomes


def test_resume_after_the_breaker_sends_the_held_rest_at_the_next_minute(world: World) -> None:
    phones = trip_and_hold(world, 6)
    assert len(world.runs.holds.parked(RUN)) == 4  # the paused ones, noted under the run
    resumed_at = world.clock.current
    resume_campaign("cmp_leeds", world.campaigns, world.runs, world.clock)
    run = world.runs.get_run(RUN)
    assert run is not None and run.breaker is None
    assert world.get_campaign("cmp_leeds").paused_reason is None
    assert world.runs.holds.parked(RUN) == []
    assert [hold.minute for hold in world.holds()] == [minute_of(resumed_at)] * 4  # released once past
    assert minutes_pass(world, 1) == [Fate.SENT] * 4  # within a minute, not at the hourly re-check
    assert sorted(world.received()) == phones
    assert minutes_pass(world, 65) == []  # the re-check's holds went with the resume: nothing at the hour
    run = world.runs.get_run(RUN)
    assert run is not None and run.counts[OUT] == 6 and run.counts["planned"] == 6


def test_an_operators_pause_and_resume_bring_the_held_texts_forward_too(world: World) -> None:
    phones = [f"+4477009009{i:02d}" for i in range(3)]
    jobs = world.started(phones, messages_per_second=100)
    pause_campaign("cmp_leeds", None, world.campaigns, world.clock, by="ops")
    assert world.send(jobs) == [Fate.PAUSED] * 3
    world.clock.current += timedelta(minutes=20)
    assert minutes_pass(world, 5) == []  # paused: nothing goes
    resume_campaign("cmp_leeds", world.campaigns, world.runs, world.clock, by="ops")
    assert minutes_pass(world, 1) == [Fate.SENT] * 3
    assert sorted(world.received()) == phones


def test_a_resume_twice_or_two_at_once_send_each_held_text_once(world: World) -> None:
    """Two resumes that both read the run's held texts before either forgets them, a minute apart,
    so each files them under its own minute; every send job then delivered twice. The ledger lets
    one text per contact through."""
    phones = trip_and_hold(world, 6)
    barrier = threading.Barrier(2)
    original = world.runs.holds.parked

    def parked_together(run_id: str) -> list[Hold]:
        found = original(run_id)
        barrier.wait(timeout=5)  # both have read them
        return found

    world.runs.holds.parked = parked_together  # type: ignore[method-assign]
    clocks = [StepClock(world.clock.current), StepClock(world.clock.current + timedelta(minutes=1))]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: resume_campaign("cmp_leeds", world.campaigns, world.runs, c), clocks))
    world.runs.holds.parked = original  # type: ignore[method-assign]
    assert len(world.holds()) == 8  # four texts, each filed twice
    outcomes = minutes_pass(world, 3, deliveries=2)
    assert outcomes.count(Fate.SENT) == 4 and set(outcomes) == {Fate.SENT, Fate.DUPLICATE}
    assert sorted(world.received()) == phones  # one text each
    resume_campaign("cmp_leeds", world.campaigns, world.runs, world.clock)  # once more, later: nothing
    assert minutes_pass(world, 65) == [] and len(world.received()) == 6


def test_a_resume_never_files_a_held_text_at_a_minute_the_tick_has_released(world: World) -> None:
    trip_and_hold(world, 4)
    released_through = minute_of(world.clock.current) + timedelta(minutes=3)  # the tick's clock is ahead
    world.set_cursor(released_through)
    resume_campaign("cmp_leeds", world.campaigns, world.runs, world.clock)
    assert {hold.minute for hold in world.holds()} == {released_through + timedelta(minutes=1)}


def test_a_resume_that_crashes_half_way_loses_no_held_text_and_sends_none_twice(world: World) -> None:
    phones = trip_and_hold(world, 5)

    def crash(holds: list[Hold]) -> None:
        raise RuntimeError("the Lambda timed out")

    world.runs.holds.release = crash  # type: ignore[method-assign]  # after filing at the next minute, before forgetting
    with pytest.raises(RuntimeError):
        resume_campaign("cmp_leeds", world.campaigns, world.runs, world.clock)
    del world.runs.holds.release
    assert minutes_pass(world, 2) == [Fate.SENT] * 3  # the campaign is active: they went as the minute passed
    resume_campaign("cmp_leeds", world.campaigns, world.runs, world.clock)  # the operator tries again
    assert set(minutes_pass(world, 65)) <= {Fate.DUPLICATE}  # the spare holds find their texts sent
    assert sorted(world.received()) == phones


def test_a_slot_beyond_the_senders_time_is_queued_again_with_a_delay(world: World) -> None:
    world.campaign(messages_per_second=0.1)  # one every ten seconds
    for i in range(3):
        world.contact(f"+4477009008{i:02d}")
    world.tick()
    world.plan()
    jobs = world.send_queue.take()
    started = world.clock.current
    ctx = replace(world.ctx(), remaining_s=lambda: 25.0 - (world.clock.current - started).total_seconds())
    outcomes = [send_one(SendJob(str(j["run_id"]), str(j["campaign_id"]), str(j["phone"])), ctx) for j in jobs]
    assert outcomes == [Fate.SENT, Fate.SENT, Fate.DEFERRED]  # the third slot: 10 s away, 15 s left, 10 kept back
    [(deferred, delay)] = world.send_queue.jobs
    assert deferred["phone"] == jobs[2]["phone"] and 9 <= delay <= 11
    assert world.clock.current - started < timedelta(seconds=25)  # never slept past its time


def test_a_resume_clears_the_breaker_of_every_live_run_not_only_the_newest_listed(world: World) -> None:
    world.campaign(cron="0 * * * *", relevance_hours=24)
    hourly = [SEND_AT - timedelta(hours=hours) for hours in range(21)]  # 21 live runs: more than a listing shows
    for scheduled in hourly:
        world.runs.start_run(
            Run(id=run_id("cmp_leeds", scheduled), campaign_id="cmp_leeds", scheduled_for=scheduled,
                started_at=scheduled, shards=SHARDS)
        )  # fmt: skip
    oldest = run_id("cmp_leeds", hourly[-1])
    unit = world.runs.unit()
    unit.add(world.runs.tripped(oldest, "circuit breaker: undelivered"))
    unit.commit()
    pause_campaign("cmp_leeds", "circuit breaker: undelivered", world.campaigns, world.clock)
    assert oldest not in [run.id for run in world.runs.list_runs("cmp_leeds")]  # the console's twenty
    resume_campaign("cmp_leeds", world.campaigns, world.runs, world.clock)
    tripped = world.runs.get_run(oldest)
    assert tripped is not None and tripped.breaker is None and tripped.resumed


def test_a_minutes_held_texts_are_released_a_page_at_a_time_every_one_once(world: World) -> None:
    minute = minute_of(SEND_AT + timedelta(hours=1))
    holds = [Hold(RUN, "cmp_leeds", f"+44770{n:07d}", minute, minute) for n in range(20_000)]
    world.runs.holds.record([], holds)
    one_shard = [hold for hold in holds if hold.shard == 0]
    queries = world.table.db.calls.get("Query", 0)
    assert runs.release_holds(minute, 0, world.runs, world.send_queue) == len(one_shard) > HOLDS_PAGE
    assert world.table.db.calls["Query"] - queries > 1  # more than one page
    assert sorted(job["phone"] for job in world.send_queue.take()) == sorted(hold.phone for hold in one_shard)
    assert [hold for page in world.runs.holds.due(minute, 0) for hold in page] == []
