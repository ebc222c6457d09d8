"""Use case on the send queue: one campaign text (or the question sent instead)
to one contact, decided again at send time, claimed once, paced, recorded."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.campaign import Campaign, CampaignStatus
from chalicelib.domain.contact import Contact
from chalicelib.domain.delivery import Receipt, reachability
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.messages import FINAL_STATUSES, DeliveryStatus, Direction, Message
from chalicelib.domain.policy import Decision, Intent, PolicySettings, Purpose, Verdict, decide
from chalicelib.domain.prompts import Prompt
from chalicelib.domain.runs import (
    FAILED,
    OUT,
    UNKNOWN,
    BreakerSettings,
    DecisionRecord,
    Hold,
    Run,
    after_send,
    breaker_reason,
)
from chalicelib.services.ports import (
    CampaignStore,
    Clock,
    ConversationStore,
    JobQueue,
    LedgerState,
    PromptBook,
    RunStore,
    Sender,
    SendOutcome,
    SendResult,
)
from chalicelib.services.runs import send_job

MAX_ATTEMPTS = 5  # Twilio 429/5xx: retried through the queue this many times
LEDGER_KEPT = timedelta(days=30)  # past the deadline, so "once per run" holds for good
PACE_MARGIN = 1.02  # spacing a little wider than 1/MPS absorbs timing jitter
READ_LEAD_S = 0.05  # the contact is read this long before its slot, so the read's latency never delays the send
SLOT_TOLERANCE_S = 0.02  # a text later than this for its slot takes a new one (PACE_MARGIN leaves 0.02 s a second)
MAX_VALIDITY_S = 36_000  # Twilio's longest ValidityPeriod


class Sent(StrEnum):
    """What handling one send job did (a metric dimension)."""

    SENT = "sent"
    HELD = "held"
    DROPPED = "dropped"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    FAILED = "failed"
    UNKNOWN = "unknown"
    PAUSED = "paused"
    GONE = "gone"  # the contact, run or campaign no longer exists


@dataclass(frozen=True)
class SendContext:
    campaigns: CampaignStore
    runs: RunStore
    store: ConversationStore
    send_queue: JobQueue
    sender: Sender
    clock: Clock
    policy: PolicySettings
    brand_name: str
    prompts: PromptBook
    breaker: BreakerSettings = field(default_factory=BreakerSettings)


@dataclass(frozen=True)
class SendJob:
    run_id: str
    campaign_id: str
    phone: str
    retry: int = 0  # how many times Twilio asked us to come back

    def body(self) -> dict[str, str | int]:
        return {**send_job(self.run_id, self.campaign_id, self.phone), "retry": self.retry}


def backoff_s(retry: int) -> int:
    return min(900, 15 << retry)  # 15 s, 30 s, 1 min ...; SQS delays at most 15 minutes


@dataclass
class BatchReads:
    """Campaigns and runs read once per SQS batch. An operator's pause reaches
    the next batch; the circuit breaker is seen at every slot taken."""

    campaigns: dict[str, Campaign | None] = field(default_factory=dict)
    runs: dict[str, Run | None] = field(default_factory=dict)

    def campaign(self, campaign_id: str, ctx: SendContext) -> Campaign | None:
        if campaign_id not in self.campaigns:
            self.campaigns[campaign_id] = ctx.campaigns.get(campaign_id)
        return self.campaigns[campaign_id]

    def run(self, run_id: str, ctx: SendContext) -> Run | None:
        if run_id not in self.runs:
            self.runs[run_id] = ctx.runs.get_run(run_id)
        return self.runs[run_id]


def send_one(job: SendJob, ctx: SendContext, batch: BatchReads | None = None) -> Sent:
    reads = batch or BatchReads()
    campaign, run = reads.campaign(job.campaign_id, ctx), reads.run(job.run_id, ctx)
    if campaign is None or run is None:
        return Sent.GONE
    now = ctx.clock.now()
    intent = campaign.intent(run.scheduled_for)
    if run.breaker:
        intent = replace(intent, campaign_paused=True)
    # claimed first: a redelivered job stops here and leaves the recorded decision alone
    if ctx.runs.claim(run.id, job.phone, now, intent.deadline or now + LEDGER_KEPT) is None:
        return Sent.DUPLICATE
    paced = not intent.campaign_paused
    send_at = now.timestamp()
    if paced:
        send_at, current = ctx.runs.take_slot(run.id, PACE_MARGIN / campaign.messages_per_second, send_at)
        if current.breaker or _trip(current, campaign, ctx):
            intent = replace(intent, campaign_paused=True)
        else:  # wake just early enough to read the contact before the slot
            ctx.clock.sleep(send_at - READ_LEAD_S - ctx.clock.now().timestamp())
        now = ctx.clock.now()
    # read just before sending: a STOP that arrived while this text waited for its slot wins
    contact = ctx.store.get_contact(job.phone)
    decision = _decide_now(contact, intent, now, ctx.policy) if contact else None
    if contact is None or decision is None or decision.verdict in (Verdict.HOLD, Verdict.DROP):
        if paced:
            ctx.runs.add_counts(run.id, {OUT: -1})  # the slot was taken, but nothing goes out
        return _not_now(job.phone, run, decision, now, ctx)
    if paced:
        _keep_slot(run.id, send_at, PACE_MARGIN / campaign.messages_per_second, ctx)
    outgoing = _outgoing(campaign, contact, decision, ctx)
    deadline = intent.deadline or now + timedelta(seconds=MAX_VALIDITY_S)
    valid_for = int(min(MAX_VALIDITY_S, max(1, (deadline - ctx.clock.now()).total_seconds())))
    result = ctx.sender.send(contact.phone, outgoing.text, valid_for)
    record = DecisionRecord.of(contact.phone, run, decision, now, "at_send")
    if result.outcome == SendOutcome.ACCEPTED and result.sid:
        _record_sent(contact, campaign, run, outgoing, result, record, ctx)
        return Sent.SENT
    if result.outcome == SendOutcome.RETRY:
        if job.retry + 1 < MAX_ATTEMPTS:
            ctx.runs.settle(run.id, contact.phone, LedgerState.RELEASED, result.detail)
            retry = replace(job, retry=job.retry + 1)
            ctx.send_queue.enqueue([retry.body()], delay_s=backoff_s(job.retry))
            return Sent.RETRY
        result = SendResult(SendOutcome.REJECTED, detail=f"gave up after {MAX_ATTEMPTS} attempts: {result.detail}")
    if result.outcome == SendOutcome.UNKNOWN:
        ctx.runs.settle(run.id, contact.phone, LedgerState.UNKNOWN, result.detail)
        ctx.runs.add_counts(run.id, {UNKNOWN: 1})
        ctx.runs.record_decisions([record.model_copy(update={"outcome": "unknown"})], [])
        return Sent.UNKNOWN
    ctx.runs.settle(run.id, contact.phone, LedgerState.FAILED, result.detail)
    ctx.runs.add_counts(run.id, {FAILED: 1})
    ctx.runs.record_decisions([record.model_copy(update={"outcome": "failed", "error_code": result.error_code})], [])
    if result.error_code is not None:
        _refused(contact, result.error_code, now, ctx)
    return Sent.FAILED


def _keep_slot(run_id: str, send_at: float, interval: float, ctx: SendContext) -> None:
    """Wait for the slot; a text that missed its slot by more than the pace's
    slack (a slow read, a stalled container) takes a fresh one instead, so a
    late text never ends up closer than the pace to the next one."""
    for _ in range(MAX_ATTEMPTS):
        late = ctx.clock.now().timestamp() - send_at
        if late <= SLOT_TOLERANCE_S:
            ctx.clock.sleep(-late)
            return
        send_at, _ = ctx.runs.take_slot(run_id, interval, ctx.clock.now().timestamp(), count=False)


def _decide_now(contact: Contact, intent: Intent, now: datetime, policy: PolicySettings) -> Decision:
    decision = decide(contact, intent, now, policy)
    if decision.verdict != Verdict.ASK:
        return decision
    # the question instead of the promotion: consent and quiet hours hold for it too
    question = Intent(Purpose.CONVERSATIONAL, deadline=intent.deadline, is_prompt=True)
    checked = decide(contact, question, now, policy)
    return decision if checked.verdict == Verdict.SEND else checked


def _not_now(phone: str, run: Run, decision: Decision | None, now: datetime, ctx: SendContext) -> Sent:
    """Held: give the claim back for when the tick releases it. Dropped (or the
    contact is gone): final for this run."""
    if decision is None:
        ctx.runs.settle(run.id, phone, LedgerState.DROPPED, "no such contact")
        return Sent.GONE
    record = DecisionRecord.of(phone, run, decision, now, "at_send")
    if decision.verdict == Verdict.HOLD and decision.until is not None:
        hold = Hold.filed(run.id, run.campaign_id, phone, decision.until, now)
        ctx.runs.record_decisions([record], [hold])
        ctx.runs.settle(run.id, phone, LedgerState.RELEASED, decision.reason)
        return Sent.PAUSED if decision.reason == "campaign_paused" else Sent.HELD
    ctx.runs.record_decisions([record], [])
    ctx.runs.settle(run.id, phone, LedgerState.DROPPED, decision.reason)
    return Sent.DROPPED


def _trip(run: Run, campaign: Campaign, ctx: SendContext) -> bool:
    reason = breaker_reason(run.counts, ctx.breaker)
    if reason is None or not ctx.runs.trip_breaker(run.id, reason):
        return False
    for _ in range(MAX_ATTEMPTS):
        current = ctx.campaigns.get(campaign.id) or campaign
        if current.status == CampaignStatus.PAUSED:
            break
        paused = current.model_copy(
            update={"status": CampaignStatus.PAUSED, "paused_reason": reason, "updated_at": ctx.clock.now()}
        )
        try:
            ctx.campaigns.save(paused, current.version)
            break
        except ConcurrentUpdateError:
            continue
    return True


@dataclass(frozen=True)
class Outgoing:
    text: str
    prompt: Prompt | None  # the question sent instead of the campaign's text
    location: str | None


def _outgoing(campaign: Campaign, contact: Contact, decision: Decision, ctx: SendContext) -> Outgoing:
    location = campaign.location.name if campaign.location else None
    asked = decision.prompt if decision.verdict == Verdict.ASK else campaign.prompt_id
    if asked is not None:
        prompt = ctx.prompts.get(asked)  # an operator's version of a shipped question wins
        if prompt is None:
            raise LookupError(f"no prompt {asked!r}")  # the job fails, and ends in the dead-letter queue
        return Outgoing(prompt.text(ctx.brand_name, location), prompt, location)
    return Outgoing(campaign.text_for(contact), None, location)


def _record_sent(
    contact: Contact,
    campaign: Campaign,
    run: Run,
    outgoing: Outgoing,
    result: SendResult,
    record: DecisionRecord,
    ctx: SendContext,
) -> None:
    """Store what went out. A status callback may have arrived first and created
    the message: its events are kept. A concurrent inbound text: re-read, redo."""
    sid = result.sid or ""
    at = ctx.clock.now()
    sent = Message(
        sid=sid,
        phone=contact.phone,
        brand_number=result.from_number or "",
        direction=Direction.OUTBOUND,
        at=at,
        body=outgoing.text,
        status=DeliveryStatus.QUEUED,
        run_id=run.id,
    )
    outcome = record.model_copy(update={"outcome": "sent", "sid": sid})
    current, stored = contact, None
    for _ in range(MAX_ATTEMPTS):
        message = sent
        if stored is not None:  # keep what the callbacks already said
            message = stored.model_copy(
                update={"body": outgoing.text, "run_id": run.id, "at": at, "brand_number": sent.brand_number}
            )
        updated = after_send(current, campaign.purpose, outgoing.prompt, outgoing.location, run.id, at)
        try:
            ctx.runs.record_sent(updated, current.version, message, stored.version if stored else None, outcome)
        except ConcurrentUpdateError:
            stored, latest = ctx.store.get_message_and_contact(contact.phone, sid)
            current = latest or current
            continue
        if stored is not None and stored.status in FINAL_STATUSES and stored.error_code is not None:
            ctx.runs.add_counts(run.id, {FAILED: 1})  # its failure receipt came before the run was known
        return
    raise ConcurrentUpdateError(f"could not record {sid} after {MAX_ATTEMPTS} attempts")


def _refused(contact: Contact, code: int, at: datetime, ctx: SendContext) -> None:
    """Twilio's refusal says something about the number (21610 opted out, 21614 not mobile)."""
    receipt = Receipt(
        sid="", status=DeliveryStatus.FAILED, phone=contact.phone, brand_number="", at=at, error_code=code
    )
    current: Contact | None = contact
    for _ in range(MAX_ATTEMPTS):
        if current is None:
            return
        changed = reachability(current, receipt)
        if changed is None:
            return
        try:
            ctx.store.save_contact(changed, current.version)
            return
        except ConcurrentUpdateError:
            current = ctx.store.get_contact(contact.phone)
