"""Use case on the send queue: one campaign text (or the question sent instead)
to one contact, decided again at send time, claimed once, paced, recorded."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import Contact, consent_added
from chalicelib.domain.delivery import Receipt, reachability
from chalicelib.domain.errors import (
    ConcurrentUpdateError,
    LookupUnavailableError,
    MarketingTakenError,
)
from chalicelib.domain.ledger import (
    LEASE,
    LEDGER_KEPT,
    RETRY_FIRST_S,
    RETRY_MAX_S,
    Claim,
    ClaimStatus,
    Fate,
    look,
    settlement,
)
from chalicelib.domain.messages import DeliveryStatus, Direction, Message
from chalicelib.domain.policy import Decision, Intent, PolicySettings, PromptId, Purpose, Reason, Verdict, decide
from chalicelib.domain.prompts import Prompt
from chalicelib.domain.runs import BreakerSettings, DecisionRecord, Hold, Run, after_send, breaker_reason
from chalicelib.domain.segments import segments
from chalicelib.domain.stores import Origin, origin_of
from chalicelib.services.campaigns import trip_breaker
from chalicelib.services.ports import (
    CampaignStore,
    Clock,
    ConversationStore,
    JobQueue,
    PromptBook,
    RunStore,
    Sender,
    SendOutcome,
    SendResult,
    Write,
)
from chalicelib.services.recording import record_sent
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.runs import file_holds, send_job
from chalicelib.services.status import run_counts
from chalicelib.services.stores import StoreDirectory

PACE_MARGIN = 1.03  # spacing a little wider than 1/MPS absorbs timing jitter
CLAIM_LEAD_S = 0.1  # a text is decided and claimed this long before its slot, so the claim never delays the send
SLOT_AHEAD_S = 0.03  # a slot at least this far ahead: the claim (one transaction) fits before it, even at once
SLOT_TOLERANCE_S = 0.01  # a text later than this for its slot takes a new one (PACE_MARGIN leaves 0.03 s a second)
CLAIM_TRIES = 4  # decisions on a contact that changed under the claim, and a dead sender's entry taken over
MAX_VALIDITY_S = 36_000  # Twilio's longest ValidityPeriod
TIME_KEPT_S = 10.0  # of a sender's remaining time: for the Twilio call and the record after its slot
LEASE_SLACK_S = 5  # a job meeting another sender's lease comes back this long after it ends
SLOT_RETAKES = 5  # a text late for its slot takes a new one at most this often
# Twilio's refusals that say something about the number; platform errors (20xxx) never do.
NUMBER_ERRORS = frozenset({21610, 21614, 30003, 30005, 30006})


def _forever() -> float:
    return math.inf


@dataclass(frozen=True)
class SendTiming:
    """The send path's clocks, settings so that a test can run them scaled down
    (config.py: SEND_LEASE_SECONDS, SEND_RETRY_FIRST_SECONDS, SEND_RETRY_MAX_SECONDS)."""

    lease: timedelta = LEASE  # a claim's lease: past it, another sender reconciles the entry
    retry_first_s: int = RETRY_FIRST_S  # Twilio unavailable: the first wait, doubled per try ...
    retry_max_s: int = RETRY_MAX_S  # ... up to this (SQS delays a message at most 15 minutes)


DEFAULT_TIMING = SendTiming()


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
    stores: StoreDirectory
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    timing: SendTiming = field(default_factory=SendTiming)
    remaining_s: Callable[[], float] = _forever  # the Lambda's time left (context.get_remaining_time_in_millis)


@dataclass(frozen=True)
class SendJob:
    run_id: str
    campaign_id: str
    phone: str
    retry: int = 0  # how many times Twilio asked us to come back

    def body(self) -> dict[str, str | int]:
        return {**send_job(self.run_id, self.campaign_id, self.phone), "retry": self.retry}


def backoff_s(retry: int, rng: random.Random | None = None, timing: SendTiming = DEFAULT_TIMING) -> int:
    """15 s, 30 s, 1 min ... capped at 15 minutes (by default), jittered over the
    upper half so that texts held back by one outage do not all come back at once."""
    cap = min(timing.retry_max_s, timing.retry_first_s << min(retry, 10))
    return math.ceil((rng or random).uniform(cap / 2, cap))


@dataclass
class BatchReads:
    """What is read once per SQS batch: campaigns, runs, and the batch's
    contacts (one BatchGetItem). An operator's pause reaches the next batch; the
    circuit breaker is seen at every slot taken; a contact that changed after the
    batch read (a STOP, any write) is caught by the claim, which checks it is
    still as read, and is read again."""

    phones: list[str] = field(default_factory=list)  # the batch's recipients, read together at the first need
    campaigns: dict[str, Campaign | None] = field(default_factory=dict)
    runs: dict[str, Run | None] = field(default_factory=dict)
    contacts: dict[str, Contact | None] = field(default_factory=dict)
    prompts: dict[str, Prompt | None] = field(default_factory=dict)

    @classmethod
    def of(cls, jobs: list[dict[str, Any]]) -> BatchReads:
        return cls(phones=[str(job["phone"]) for job in jobs])

    def campaign(self, campaign_id: str, ctx: SendContext) -> Campaign | None:
        if campaign_id not in self.campaigns:
            self.campaigns[campaign_id] = ctx.campaigns.get(campaign_id)
        return self.campaigns[campaign_id]

    def run(self, run_id: str, ctx: SendContext) -> Run | None:
        if run_id not in self.runs:
            self.runs[run_id] = ctx.runs.get_run(run_id)
        return self.runs[run_id]

    def prompt(self, prompt_id: str, ctx: SendContext) -> Prompt | None:
        if prompt_id not in self.prompts:
            self.prompts[prompt_id] = ctx.prompts.get(prompt_id)
        return self.prompts[prompt_id]

    def contact(self, phone: str, ctx: SendContext) -> Contact | None:
        if phone not in self.contacts:
            wanted = [p for p in dict.fromkeys([phone, *self.phones]) if p not in self.contacts]
            found = {contact.phone: contact for contact in ctx.store.get_contacts(wanted)}
            self.contacts.update({p: found.get(p) for p in wanted})
        return self.contacts[phone]

    def read_again(self, phone: str, ctx: SendContext) -> Contact | None:
        self.contacts[phone] = ctx.store.get_contact(phone)
        return self.contacts[phone]


@dataclass
class TextAttempt:
    """One send job on its way through the pipeline: what it is for, and where it stands."""

    job: SendJob
    campaign: Campaign
    run: Run
    intent: Intent
    now: datetime
    paced: bool  # it takes a slot of its sender's pace (a paused run's texts are only held)
    origin: Origin  # the sender it goes from, and that sender's rate
    segments: int = 1  # of the pace it takes: its text's segments, as rendered before the decision
    send_at: float = 0.0  # its slot, epoch seconds (paced only)

    @property
    def interval_s(self) -> float:
        """Its share of the sender's pace."""
        return PACE_MARGIN * self.segments / self.origin.messages_per_second

    @property
    def capped(self) -> bool:
        """The campaign has a rate of its own, below its senders'."""
        return self.campaign.messages_per_second is not None

    @property
    def own_interval_s(self) -> float:
        """Its share of the campaign's own pace (capped only)."""
        return PACE_MARGIN * self.segments / (self.campaign.messages_per_second or math.inf)

    def decided(self, contact: Contact, decision: Decision) -> DecisionRecord:
        return DecisionRecord.of(contact.phone, self.run, decision, self.now, "at_send")


@dataclass(frozen=True)
class Claimed:
    """A text this sender holds the ledger's lease for: about to go to Twilio."""

    contact: Contact
    outgoing: Outgoing
    record: DecisionRecord
    attempt: str  # the ledger entry's attempt this sender holds
    marketing: bool = False  # it also reserved the contact's marketing slot


def send_one(job: SendJob, ctx: SendContext, batch: BatchReads | None = None) -> Fate:
    """One text through its ledger entry (domain/ledger.py): a slot of the pace,
    decided again at it on the contact as the batch read it, claimed just before
    the Twilio call on condition that the contact is still as read, settled once."""
    reads = batch or BatchReads()
    campaign, run = reads.campaign(job.campaign_id, ctx), reads.run(job.run_id, ctx)
    if campaign is None or run is None:
        return Fate.GONE
    contact = reads.contact(job.phone, ctx)
    intent = campaign.intent(run.scheduled_for, ctx.stores.all(wanted=campaign.audience.stores))
    if run.breaker:
        intent = replace(intent, campaign_paused=True)
    origin = ctx.stores.origin(contact) if contact else origin_of(None, math.inf)
    text = TextAttempt(job, campaign, run, intent, ctx.clock.now(), not intent.campaign_paused, origin)
    text.segments = _segments_before(campaign, contact, reads, ctx)
    if text.paced and (deferred := _wait_for_slot(text, ctx)) is not None:
        return deferred
    claimed = _claim(text, contact, reads, ctx)
    if isinstance(claimed, Fate):
        return claimed
    return _call_twilio(text, claimed, reads, ctx)


def _segments_before(campaign: Campaign, contact: Contact | None, reads: BatchReads, ctx: SendContext) -> int:
    """The segments its pace slot is taken for: the campaign's text for this
    contact (or its question), before the decision (which may ask a question instead)."""
    if contact is None:
        return 1
    if campaign.message is not None:
        return max(1, segments(campaign.text_for(contact, ctx.stores.template_fields(contact))).count)
    prompt = reads.prompt(campaign.prompt_id or "", ctx)
    location = campaign.location.name if campaign.location else None
    return max(1, segments(prompt.text(ctx.brand_name, location)).count) if prompt else 1


def _wait_for_slot(text: TextAttempt, ctx: SendContext) -> Fate | None:
    """Take the next slot of its sender's pace (after one of the campaign's own,
    if it has a rate of its own) and sleep until just before it; DEFERRED when the
    slot lies beyond this sender's time (queued again for it). A breaker seen or
    tripped pauses the text instead (it is held, not sent; its slot goes unused)."""
    current = _take_slots(text, text.now.timestamp() + SLOT_AHEAD_S, ctx)  # a slot at `now` would be missed
    if (current or text.run).breaker or _trip(text.run, text.campaign, ctx):
        text.intent = replace(text.intent, campaign_paused=True)  # the slot goes unused: a pause is rare
    else:
        wait = text.send_at - ctx.clock.now().timestamp()
        if wait > 0 and wait > ctx.remaining_s() - TIME_KEPT_S:  # never sleep past the handler's time
            ctx.send_queue.enqueue([text.job.body()], delay_s=min(ctx.timing.retry_max_s, math.ceil(wait)))
            return Fate.DEFERRED
        ctx.clock.sleep(wait - CLAIM_LEAD_S)  # wake just early enough to decide and claim before the slot
    text.now = ctx.clock.now()
    return None


def _claim(text: TextAttempt, contact: Contact | None, reads: BatchReads, ctx: SendContext) -> Claimed | Fate:
    """Decide now on the contact as read and claim its entry on condition that it is
    still so (a STOP meanwhile refuses the claim: read again, decided again). A dead
    sender's entry is reconciled with Twilio first; not found there, it is taken over."""
    taking_over: str | None = None  # a dead sender's attempt, found not sent at Twilio: this sender settles it
    for _ in range(CLAIM_TRIES):
        decision = _decide_now(contact, text.intent, text.now, ctx.policy) if contact else None
        if contact is None or decision is None or decision.verdict in (Verdict.HOLD, Verdict.DROP):
            return _not_now(text, contact, decision, ctx, taking_over)
        outgoing, record = _outgoing(text.campaign, contact, decision, ctx), text.decided(contact, decision)
        marketing = text.campaign.purpose == Purpose.MARKETING and decision.verdict == Verdict.SEND
        since = text.now - ctx.policy.smart_sending if marketing and taking_over is None else None
        try:
            claim = ctx.runs.ledger.claim(
                text.run.id, contact.phone, text.now, text.now + ctx.timing.lease,
                marketing_since=since, take_over=taking_over, seen=contact, body=outgoing.text, unpaused=True,
            )  # fmt: skip
        except MarketingTakenError:
            return _slot_taken(text, contact, ctx)
        if claim.status == ClaimStatus.PAUSED:  # the breaker tripped since the batch read the run
            text.intent = replace(text.intent, campaign_paused=True)
            continue
        if claim.status == ClaimStatus.STALE_SENDING and taking_over is None:
            found = _reconcile(text, contact, record, claim, ctx)
            if found is not None:
                return found
            taking_over = claim.attempt  # Twilio never took it: claimed again below, from the dead sender
            continue
        if claim.status == ClaimStatus.TAKEN:
            return Claimed(contact, outgoing, record, claim.attempt, marketing)
        if claim.status != ClaimStatus.CHANGED:
            return _busy(text.job, claim, ctx)
        contact, text.now = reads.read_again(text.job.phone, ctx), ctx.clock.now()
    raise ConcurrentUpdateError(f"{text.job.phone} kept changing under the claim")  # SQS brings the job back


def _take_slots(text: TextAttempt, earliest: float, ctx: SendContext) -> Run | None:
    """Its slot (text.send_at): the campaign's own first, if it has a rate of its
    own, then its sender's at or after it. The run as the campaign's slot found it."""
    current = None
    if text.capped:
        earliest, current = ctx.runs.take_slot(text.run.id, text.own_interval_s, earliest)
    text.send_at = ctx.runs.senders.take_slot(text.origin.pace, text.interval_s, earliest)
    return current


def _slot_taken(text: TextAttempt, contact: Contact, ctx: SendContext) -> Fate:
    """Another campaign's text took the contact's marketing slot between decision and claim."""
    taken = Decision(Verdict.DROP, Reason.SMART_SENDING, "Another campaign's text took this contact's slot just now.")
    ctx.runs.ledger.settle(text.run.id, contact.phone, None, Fate.DROPPED, text.decided(contact, taken))
    return Fate.DROPPED


def _call_twilio(text: TextAttempt, claimed: Claimed, reads: BatchReads, ctx: SendContext) -> Fate:
    """At its slot, the one Twilio call; what Twilio said, recorded."""
    if text.paced:
        needed = max(1, segments(claimed.outgoing.text).count)
        if needed > text.segments:  # a longer question instead of the offer: a slot of its own size
            text.segments = needed
            _take_slots(text, ctx.clock.now().timestamp() + SLOT_AHEAD_S, ctx)
        _keep_slot(text, ctx)
    deadline = text.intent.deadline or text.run.scheduled_for + LEDGER_KEPT
    valid_for = int(min(MAX_VALIDITY_S, max(1, (deadline - ctx.clock.now()).total_seconds())))
    phone = claimed.contact.phone
    result = ctx.sender.send(phone, claimed.outgoing.text, valid_for, text.origin.sender)
    if result.outcome == SendOutcome.ACCEPTED and result.sid:
        reads.contacts.pop(phone, None)  # recorded as sent: the read is stale now
        _record_sent(text, claimed, result, ctx)
        return Fate.SENT
    if claimed.marketing:
        ctx.runs.ledger.release_marketing(phone, text.now)  # nothing went: the slot is free again
    return _not_sent(text.job, deadline, result, claimed, ctx)


def _not_sent(job: SendJob, deadline: datetime, result: SendResult, claimed: Claimed, ctx: SendContext) -> Fate:
    """Twilio did not take it (busy, down, refused) or cannot say whether it did."""
    run_id, phone, record = job.run_id, job.phone, claimed.record
    if result.outcome == SendOutcome.RETRY:
        delay = backoff_s(job.retry, timing=ctx.timing)
        if ctx.clock.now() + timedelta(seconds=delay) < deadline:  # outages end; texts are kept until their deadline
            if ctx.runs.ledger.settle(run_id, phone, claimed.attempt, Fate.RETRY, detail=result.detail):
                ctx.send_queue.enqueue([replace(job, retry=job.retry + 1).body()], delay_s=delay)
            return Fate.RETRY
        result = SendResult(SendOutcome.REJECTED, detail=f"Twilio still unavailable at the deadline: {result.detail}")
    if result.outcome == SendOutcome.UNKNOWN:  # it may have gone: never sent again
        ctx.runs.ledger.settle(run_id, phone, claimed.attempt, Fate.UNKNOWN, record, result.detail)
        return Fate.UNKNOWN
    failed = record.model_copy(update={"error_code": result.error_code})
    ctx.runs.ledger.settle(run_id, phone, claimed.attempt, Fate.FAILED, failed, result.detail)
    if result.error_code in NUMBER_ERRORS:
        _refused(phone, result.error_code, ctx.clock.now(), ctx)
    return Fate.FAILED


def _reconcile(
    text: TextAttempt, contact: Contact | None, record: DecisionRecord | None, stale: Claim, ctx: SendContext
) -> Fate | None:
    """A sender died while its entry was `sending`: ask Twilio whether the text
    it was sending (the body its claim stored) went. It did: record it. Twilio
    cannot say: settle as unknown (counted, and alarmed on), never resend. It did
    not (None): the caller takes the entry over, to send or to settle as decided
    now. `record`: the decision made now (None: the contact is gone)."""
    phone, run, campaign = text.job.phone, text.run, text.campaign
    since = stale.sending_since or text.now - ctx.timing.lease
    body = stale.body
    if not body and contact is not None and campaign.message is not None:  # claimed before bodies were kept
        body = campaign.text_for(contact, ctx.stores.template_fields(contact))
    try:
        if not body:
            raise LookupUnavailableError("nothing to look for: the claim kept no body")
        sid = ctx.sender.find_sent(phone, body, since - timedelta(seconds=5))
    except LookupUnavailableError as error:
        ctx.runs.ledger.settle(run.id, phone, stale.attempt, Fate.UNKNOWN, record, f"reconcile: {error}")
        return Fate.UNKNOWN
    if sid is None:
        return None
    if record is not None and record.verdict not in (Verdict.SEND, Verdict.ASK):
        note = " Found at Twilio: an earlier sender had sent it before this decision."
        record = record.model_copy(update={"explanation": record.explanation + note})
    if contact is None or record is None:  # nobody to record the message on: counted as sent
        ctx.runs.ledger.settle(run.id, phone, stale.attempt, Fate.SENT, record, f"reconciled: {sid}")
        return Fate.RECONCILED
    location = campaign.location.name if campaign.location else None
    outgoing = Outgoing(body, _prompt_of(body, campaign, location, ctx), location)
    _record_sent(
        text, Claimed(contact, outgoing, record, stale.attempt), SendResult(SendOutcome.ACCEPTED, sid=sid), ctx
    )
    return Fate.RECONCILED


def _prompt_of(body: str, campaign: Campaign, location: str | None, ctx: SendContext) -> Prompt | None:
    """The question a dead sender sent instead of the campaign's text, known by its body."""
    for prompt_id in dict.fromkeys([campaign.prompt_id, *PromptId]):
        prompt = ctx.prompts.get(prompt_id) if prompt_id else None
        if prompt is not None and prompt.text(ctx.brand_name, location) == body:
            return prompt
    return None


def _busy(job: SendJob, entry: Claim, ctx: SendContext) -> Fate:
    """The entry is not this job's to take. Settled: nothing to do. Another
    sender's live lease: this job comes back once it has ended (that sender
    may die, and this may be the only delivery of its job left), so that no
    entry stays `sending` with nobody coming back."""
    if entry.status == ClaimStatus.BUSY and entry.lease_until is None:
        return Fate.DUPLICATE
    until = entry.lease_until or ctx.clock.now()
    wait = (until - ctx.clock.now()).total_seconds() + LEASE_SLACK_S
    ctx.send_queue.enqueue([job.body()], delay_s=min(ctx.timing.retry_max_s, max(1, math.ceil(wait))))
    return Fate.LEASED


def _keep_slot(text: TextAttempt, ctx: SendContext) -> None:
    """Wait for the slot; a text that missed its slot by more than the pace's
    slack (a slow claim, a stalled container, a late wake-up from the sleep)
    takes a fresh one instead, so a late text never ends up closer than the
    sender's pace to the next one."""
    for _ in range(SLOT_RETAKES):
        late = ctx.clock.now().timestamp() - text.send_at
        if late <= SLOT_TOLERANCE_S:
            ctx.clock.sleep(-late)
            if ctx.clock.now().timestamp() - text.send_at <= SLOT_TOLERANCE_S:  # woke in time
                return
        _take_slots(text, ctx.clock.now().timestamp(), ctx)


def _decide_now(contact: Contact, intent: Intent, now: datetime, policy: PolicySettings) -> Decision:
    decision = decide(contact, intent, now, policy)
    if decision.verdict != Verdict.ASK:
        return decision
    # the question instead of the promotion: consent and quiet hours hold for it too
    question = Intent(Purpose.CONVERSATIONAL, deadline=intent.deadline, is_prompt=True)
    checked = decide(contact, question, now, policy)
    return decision if checked.verdict == Verdict.SEND else checked


def _not_now(
    text: TextAttempt, contact: Contact | None, decision: Decision | None, ctx: SendContext, attempt: str | None = None
) -> Fate:
    """Held: filed for when the tick releases it, the entry left free. Dropped
    (or the contact is gone): final for this run. Either way nothing is claimed
    (`attempt`: a dead sender's entry, found not sent at Twilio, settled instead).
    A refused settle (rare: one read) found the entry `sending`: see _settle_refused."""
    phone, run = text.job.phone, text.run
    record = DecisionRecord.of(phone, run, decision, text.now, "at_send") if decision else None
    if decision is None:
        outcome, done, detail = Fate.DROPPED, Fate.GONE, "no such contact"
    elif decision.verdict == Verdict.HOLD and decision.until is not None:
        # filed first: a crash in between leaves a spare hold (its send finds the entry settled), never none;
        # held for a pause: noted for the resume
        hold = Hold.filed(run.id, run.campaign_id, phone, decision.until, text.now, decision.reason)
        file_holds([hold], ctx.runs, ctx.send_queue)
        done = Fate.PAUSED if decision.reason == Reason.CAMPAIGN_PAUSED else Fate.HELD
        outcome, detail = Fate.HELD, str(decision.reason)
    else:
        outcome, done, detail = Fate.DROPPED, Fate.DROPPED, str(decision.reason)
    if ctx.runs.ledger.settle(run.id, phone, attempt, outcome, record, detail):
        return done
    return _settle_refused(text, contact, record, (outcome, done, detail), ctx, attempt)


def _settle_refused(
    text: TextAttempt,
    contact: Contact | None,
    record: DecisionRecord | None,
    settled: tuple[Fate, Fate, str],
    ctx: SendContext,
    attempt: str | None,
) -> Fate:
    """The entry was `sending` when this job would settle it: a dead sender's is
    reconciled first, then settled in its place; another's live lease brings this
    job back when it ends."""
    outcome, done, detail = settled
    phone, run_id = text.job.phone, text.run.id
    entry = look(ctx.runs.ledger.entry(run_id, phone), ctx.clock.now())
    if entry.status == ClaimStatus.STALE_SENDING and attempt is None:
        found = _reconcile(text, contact, record, entry, ctx)
        if found is not None:
            return found
        if ctx.runs.ledger.settle(run_id, phone, entry.attempt, outcome, record, f"taken over: {detail}"):
            return done  # Twilio never took the dead sender's text: settled as decided now
        entry = look(ctx.runs.ledger.entry(run_id, phone), ctx.clock.now())
    if entry.status == ClaimStatus.TAKEN:  # given back meanwhile (a retry, a hold): its job comes back
        return Fate.DUPLICATE
    return _busy(text.job, entry, ctx)


def _trip(run: Run, campaign: Campaign, ctx: SendContext) -> bool:
    """Pause the campaign when this run's texts hurt (counts as of this batch)."""
    reason = breaker_reason(run.counts, ctx.breaker)
    return reason is not None and trip_breaker(run.id, campaign.id, reason, ctx.campaigns, ctx.runs, ctx.clock)


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
    return Outgoing(campaign.text_for(contact, ctx.stores.template_fields(contact)), None, location)


def _record_sent(text: TextAttempt, claimed: Claimed, result: SendResult, ctx: SendContext) -> None:
    """Store what went out, with the entry settled sent, the decision's outcome and
    the run's count in the same write (recording.py). A receipt a status callback
    stored before this record is counted with it, as status.py would have."""
    sid, at, outgoing, run_id = result.sid or "", ctx.clock.now(), claimed.outgoing, text.run.id
    sent = Message(
        sid=sid, phone=claimed.contact.phone, brand_number=result.from_number or "", direction=Direction.OUTBOUND,
        at=at, body=outgoing.text, status=DeliveryStatus.QUEUED, run_id=run_id,
    )  # fmt: skip
    outcome = claimed.record.model_copy(update={"outcome": Fate.SENT, "sid": sid})
    counts = settlement(Fate.SENT).counts

    def settles(stored: Message | None) -> list[Write]:
        early = run_counts(None, stored.status) if stored is not None else {}
        return [
            ctx.runs.ledger.sent(run_id, sent.phone, claimed.attempt, sid),
            ctx.runs.holds.decided(outcome),
            *ctx.runs.counted(run_id, sent.phone, dict(Counter(counts) + Counter(early))),
        ]

    def after(contact: Contact, when: datetime) -> Contact:
        return after_send(contact, text.campaign.purpose, outgoing.prompt, outgoing.location, run_id, when)

    record_sent(sent, after, settles, ctx.store, read=claimed.contact)


def _refused(phone: str, code: int, at: datetime, ctx: SendContext) -> None:
    """Twilio's refusal says something about the number (21610 opted out, 21614 not mobile)."""
    receipt = Receipt(sid="", status=DeliveryStatus.FAILED, phone=phone, brand_number="", at=at, error_code=code)

    def attempt() -> None:
        current = ctx.store.get_contact(phone)
        changed = reachability(current, receipt) if current else None
        if current is None or changed is None:
            return
        ctx.store.save_contact(changed, current.version)
        if added := consent_added(current, changed):
            ctx.store.timeline.add_trail(phone, added, [])

    retry_on_conflict(attempt)
