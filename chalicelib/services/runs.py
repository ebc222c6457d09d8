"""Use cases on EventBridge and the planning queue: start due runs, plan a
shard of contacts, release held messages that are due."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.campaign import Campaign, CampaignStatus
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.ledger import PLANNED
from chalicelib.domain.policy import Decision, Intent, PolicySettings, Reason, Verdict
from chalicelib.domain.runs import HOLD_SHARDS, DecisionRecord, Hold, Run, minute_of, run_id
from chalicelib.services.ports import CampaignStore, Clock, ConversationStore, JobQueue, RunStore
from chalicelib.services.stores import StoreDirectory

MAX_MINUTES_PER_TICK = 120  # after an outage, catch up a couple of hours per tick
PLAN = "plan"
RELEASE = "release"


def send_job(run: str, campaign_id: str, phone: str, cell: str | None = None) -> dict[str, str]:
    """A send job's body; `cell`: its store and variant, fixed at planning (the report counts it there)."""
    job = {"run_id": run, "campaign_id": campaign_id, "phone": phone}
    return job if cell is None else {**job, "cell": cell}


def decisions_for_audience(
    campaign: Campaign,
    intent: Intent,
    contacts: Iterable[Contact],
    at: datetime,
    settings: PolicySettings,
    left_out: Counter[str] | None = None,
) -> Iterator[tuple[Contact, Decision]]:
    """The planning rule itself, shared by the real run and its preview (which
    counts, in `left_out`, why the others are not in the audience)."""
    for contact in contacts:
        why = campaign.audience.left_out(contact, at)
        if why is None:
            yield contact, campaign.decision_for(contact, intent, at, settings)
        elif left_out is not None:
            left_out[why] += 1


@dataclass(frozen=True)
class TickReport:
    started: list[str]
    released_minutes: int
    failed: dict[str, str] = field(default_factory=dict)  # campaign id -> what went wrong starting its run


def tick(
    campaigns: CampaignStore,
    runs: RunStore,
    plan_queue: JobQueue,
    clock: Clock,
    brand_zone: str,
    shards: int,
) -> TickReport:
    """Start every due run, each campaign on its own (one that fails does not
    stop the others, and is tried again next minute), then release due holds
    whatever the campaigns did."""
    now = clock.now()
    started: list[str] = []
    failed: dict[str, str] = {}
    try:
        for campaign in campaigns.list():
            try:
                run = _start_due_run(campaign, campaigns, runs, plan_queue, now, brand_zone, shards)
            except Exception as error:  # isolated: reported, and retried on the next tick
                failed[campaign.id] = f"{type(error).__name__}: {error}"
                continue
            if run is not None:
                started.append(run.id)
    finally:
        released = _release_due_minutes(runs, plan_queue, now)
    return TickReport(started=started, released_minutes=released, failed=failed)


def _start_due_run(
    campaign: Campaign,
    campaigns: CampaignStore,
    runs: RunStore,
    plan_queue: JobQueue,
    now: datetime,
    zone: str,
    shards: int,
) -> Run | None:
    """The run and its plan jobs exist before the campaign records it, so a
    crash in between repeats the start (planning is idempotent) instead of
    losing the run; two ticks at once start it once."""
    scheduled = campaign.due_run(now, zone) if campaign.status == CampaignStatus.ACTIVE else None
    if scheduled is None:
        return None
    run = Run(
        id=run_id(campaign.id, scheduled),
        campaign_id=campaign.id,
        scheduled_for=scheduled,
        started_at=now,
        shards=shards,
    )
    created = runs.start_run(run)
    plan_queue.enqueue([{"kind": PLAN, "run_id": run.id, "shard": shard} for shard in range(shards)])
    try:
        campaigns.save(campaign.model_copy(update={"last_run_for": scheduled}), campaign.version)
    except ConcurrentUpdateError:
        return None  # another tick (or an operator) wrote it first; the plan jobs it queued are replays
    return run if created else None


def file_holds(holds: list[Hold], runs: RunStore, send_queue: JobQueue) -> None:
    """File held texts under their minute; one whose minute the tick has already
    released (a slow planner, a clock behind) is queued now instead: the send
    decides again and holds it anew if it is still too early. Texts held for
    their run's pause are noted under the run too, for a resume to bring forward
    (after the filing: a crash in between leaves them to the hourly re-check)."""
    if not holds:
        return
    runs.holds.record([], holds)
    released = runs.holds.cursor()
    late = [hold for hold in holds if released is not None and hold.minute <= released]
    send_queue.enqueue([send_job(hold.run_id, hold.campaign_id, hold.phone, hold.cell) for hold in late])
    runs.holds.release(late)
    runs.holds.park([hold for hold in holds if hold.paused and hold not in late])


def bring_forward(run_id: str, runs: RunStore, now: datetime) -> int:
    """A resumed run's texts held for its pause go at the first minute the tick has
    not released (this one), not at their hourly re-check. Filed there first, then the
    re-check's holds and the notes are forgotten: a crash in between, a resume
    called twice or two at once file a text twice at worst, and its ledger entry
    lets one send through (the other finds it sent). How many notes it found."""
    parked = runs.holds.parked(run_id)
    if not parked:
        return 0
    minute = _first_unreleased_minute(runs, now)
    later = [hold for hold in parked if hold.minute > minute]  # the others go at that minute anyway
    while later:
        runs.holds.record([], [hold.moved_to(minute) for hold in later])
        released = runs.holds.cursor()
        if released is None or released < minute:
            break
        minute = released + timedelta(minutes=1)  # the tick passed it meanwhile: file them at the next one
        later = [hold for hold in later if hold.minute > minute]
    runs.holds.release(later)
    runs.holds.unpark(parked)
    return len(parked)


def _first_unreleased_minute(runs: RunStore, now: datetime) -> datetime:
    """This minute, released as soon as it is past, unless the tick (its clock ahead) has released it."""
    released = runs.holds.cursor()
    minute = minute_of(now)
    return minute if released is None or released < minute else released + timedelta(minutes=1)


def _release_due_minutes(runs: RunStore, plan_queue: JobQueue, now: datetime) -> int:
    """Queue one release job per (minute, shard) for every minute fully past."""
    through = minute_of(now) - timedelta(minutes=1)
    cursor = runs.holds.cursor()
    if cursor is None:  # first tick ever: holds are only filed from now on
        runs.holds.advance_cursor(None, through)
        return 0
    minutes: list[datetime] = []
    at = cursor + timedelta(minutes=1)
    while at <= through and len(minutes) < MAX_MINUTES_PER_TICK:
        minutes.append(at)
        at += timedelta(minutes=1)
    if not minutes:
        return 0
    jobs = [{"kind": RELEASE, "minute": m.isoformat(), "shard": shard} for m in minutes for shard in range(HOLD_SHARDS)]
    plan_queue.enqueue(jobs)  # queued before the cursor moves: a crash repeats, never loses
    runs.holds.advance_cursor(cursor, minutes[-1])
    return len(minutes)


@dataclass(frozen=True)
class ShardReport:
    run_id: str
    shard: int
    counts: Counter[str]
    queued: int
    held: int
    replay: bool = False


@dataclass
class ShardCounts:
    """What planning one shard counted: decisions by verdict and reason, and the
    texts it planned by cell (the control group's: those it left untexted)."""

    decisions: Counter[str] = field(default_factory=Counter)
    cells: Counter[str] = field(default_factory=Counter)


def _plan_page(
    run: Run,
    campaign: Campaign,
    intent: Intent,
    page: list[Contact],
    clock: Clock,
    settings: PolicySettings,
    counted: ShardCounts,
) -> tuple[list[DecisionRecord], list[Hold], list[dict[str, Any]]]:
    """One page of the audience decided: its records, its holds, its send jobs (counted into `counted`)."""
    records, holds, sends = [], [], []
    now = clock.now()
    for contact, decision in decisions_for_audience(campaign, intent, page, now, settings):
        counted.decisions[f"{decision.verdict}/{decision.reason}"] += 1
        cell = campaign.cell_of(contact)
        records.append(DecisionRecord.of(contact.phone, run, decision, now, "planned", cell))
        if decision.verdict == Verdict.HOLD and decision.until is not None:
            until, reason = decision.until, decision.reason
            holds.append(Hold.filed(run.id, campaign.id, contact.phone, until, clock.now(), reason, cell))
        elif decision.verdict in (Verdict.SEND, Verdict.ASK):
            sends.append(send_job(run.id, campaign.id, contact.phone, cell))
        elif decision.reason != Reason.HOLDOUT:
            continue
        counted.cells[cell] += 1
    return records, holds, sends


def plan_shard(
    run_key: str,
    shard: int,
    campaigns: CampaignStore,
    runs: RunStore,
    store: ConversationStore,
    send_queue: JobQueue,
    clock: Clock,
    settings: PolicySettings,
    stores: StoreDirectory,
) -> ShardReport:
    """Decide for every contact of one scan segment; record each decision, file
    holds, queue sends. A redelivered job redoes the same work; the ledger keeps
    sends single and the counts are added once per shard."""
    run = runs.get_run(run_key)
    if run is None:
        raise LookupError(f"no run {run_key!r}")
    if shard in run.shards_done:
        return ShardReport(run.id, shard, Counter(), 0, 0, replay=True)
    campaign = campaigns.get(run.campaign_id)
    if campaign is None:
        raise LookupError(f"no campaign {run.campaign_id!r}")
    intent = campaign.intent(run.scheduled_for, stores.all(wanted=campaign.audience.stores))
    counted = ShardCounts()
    queued = held = 0
    for page in store.scan_contacts(shard, run.shards):
        records, holds, sends = _plan_page(run, campaign, intent, page, clock, settings, counted)
        runs.holds.record(records, [])
        file_holds(holds, runs, send_queue)
        send_queue.enqueue(sends)
        queued, held = queued + len(sends), held + len(holds)
    replay = not runs.finish_shard(run.id, shard, {**counted.decisions, PLANNED: queued + held}, counted.cells)
    return ShardReport(run.id, shard, counted.decisions, queued, held, replay)


def release_holds(minute: datetime, shard: int, runs: RunStore, send_queue: JobQueue) -> int:
    released = 0
    for holds in runs.holds.due(minute, shard):  # a page at a time: a busy minute never sits in memory whole
        send_queue.enqueue([send_job(h.run_id, h.campaign_id, h.phone, h.cell) for h in holds])
        runs.holds.release(holds)  # after they are queued: a crash in between queues a page twice at worst
        released += len(holds)
    return released
