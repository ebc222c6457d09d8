"""A text decided again at its slot and its ledger entry claimed, on condition
that the contact is still as read; held, dropped or left to another sender otherwise."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import ConcurrentUpdateError, MarketingTakenError
from chalicelib.domain.ledger import Claim, ClaimStatus, Fate, look
from chalicelib.domain.policy import Decision, Intent, PolicySettings, Purpose, Reason, Verdict, decide
from chalicelib.domain.runs import DecisionRecord, Hold
from chalicelib.services.runs import file_holds
from chalicelib.services.send_text import (
    BatchReads,
    Claimed,
    Outgoing,
    SendContext,
    SendJob,
    TextAttempt,
    message_for,
)
from chalicelib.services.send_twilio import reconcile

CLAIM_TRIES = 4  # decisions on a contact that changed under the claim, and a dead sender's entry taken over
LEASE_SLACK_S = 5  # a job meeting another sender's lease comes back this long after it ends


def decide_and_claim(text: TextAttempt, contact: Contact | None, reads: BatchReads, ctx: SendContext) -> Claimed | Fate:
    """Decide now on the contact as read and claim its entry on condition that it is
    still so (a STOP meanwhile refuses the claim: read again, decided again). A dead
    sender's entry is reconciled with Twilio first; not found there, it is taken over."""
    taking_over: str | None = None  # a dead sender's attempt, found not sent at Twilio: this sender settles it
    for _ in range(CLAIM_TRIES):
        decision = _decide_now(contact, text.intent, text.now, ctx.policy, text.campaign) if contact else None
        if contact is None or decision is None or decision.verdict in (Verdict.HOLD, Verdict.DROP):
            return _not_now(text, contact, decision, ctx, taking_over)
        outgoing, record = (
            _outgoing(text, contact, decision, ctx),
            text.decided(contact, decision),
        )
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
            found = reconcile(text, contact, record, claim, ctx)
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


def would_send(text: TextAttempt, contact: Contact | None, ctx: SendContext) -> bool:
    """Whether the text would go (or its question) if decided now: one that would
    be held or dropped, or whose contact is gone, takes no slot of the pace."""
    if contact is None:
        return False
    return _decide_now(contact, text.intent, text.now, ctx.policy, text.campaign).verdict in (Verdict.SEND, Verdict.ASK)


def _decide_now(
    contact: Contact, intent: Intent, now: datetime, policy: PolicySettings, campaign: Campaign
) -> Decision:
    # no control group here: planning drew it, and queued no text for anyone in it
    decision = campaign.audience.explained(decide(contact, intent, now, policy), contact, now)
    if decision.verdict != Verdict.ASK:
        return decision
    # the question instead of the promotion: consent and quiet hours hold for it too
    question = Intent(Purpose.CONVERSATIONAL, deadline=intent.deadline, is_prompt=True)
    checked = decide(contact, question, now, policy)
    return decision if checked.verdict == Verdict.SEND else checked


def _not_now(
    text: TextAttempt, contact: Contact | None, decision: Decision | None, ctx: SendContext, attempt: str | None = None
) -> Fate:
    """Held: filed for when the tick releases it, the entry left free. Dropped:
    final for this run. Either way nothing is claimed
    (`attempt`: a dead sender's entry, found not sent at Twilio, settled instead).
    A refused settle (rare: one read) found the entry `sending`: see _settle_refused."""
    phone, run = text.job.phone, text.run
    if decision is None:  # the contact is gone (erased): nothing is written in its name, not even its entry
        return Fate.GONE
    record = text.decided(contact, decision)
    if decision.verdict == Verdict.HOLD and decision.until is not None:
        # filed first: a crash in between leaves a spare hold (its send finds the entry settled), never none;
        # held for a pause: noted for the resume
        hold = Hold.filed(run.id, run.campaign_id, phone, decision.until, text.now, decision.reason, record.cell)
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
        found = reconcile(text, contact, record, entry, ctx)
        if found is not None:
            return found
        if ctx.runs.ledger.settle(run_id, phone, entry.attempt, outcome, record, f"taken over: {detail}"):
            return done  # Twilio never took the dead sender's text: settled as decided now
        entry = look(ctx.runs.ledger.entry(run_id, phone), ctx.clock.now())
    if entry.status == ClaimStatus.TAKEN:  # given back meanwhile (a retry, a hold): its job comes back
        return Fate.DUPLICATE
    return _busy(text.job, entry, ctx)


def _slot_taken(text: TextAttempt, contact: Contact, ctx: SendContext) -> Fate:
    """Another campaign's text took the contact's marketing slot between decision and claim."""
    taken = Decision(Verdict.DROP, Reason.SMART_SENDING, "Another campaign's text took this contact's slot just now.")
    ctx.runs.ledger.settle(text.run.id, contact.phone, None, Fate.DROPPED, text.decided(contact, taken))
    return Fate.DROPPED


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


def _outgoing(text: TextAttempt, contact: Contact, decision: Decision, ctx: SendContext) -> Outgoing:
    campaign, cell = text.campaign, text.cell(contact)
    location = campaign.location.name if campaign.location else None
    asked = decision.prompt if decision.verdict == Verdict.ASK else campaign.prompt_id
    if asked is not None:
        prompt = ctx.prompts.get(asked)  # an operator's version of a shipped question wins
        if prompt is None:
            raise LookupError(f"no prompt {asked!r}")  # the job fails, and ends in the dead-letter queue
        return Outgoing(prompt.text(ctx.brand_name, location), prompt, location)
    message = message_for(campaign, contact, cell, ctx)
    return Outgoing(ctx.linked(message, text.run.id, contact.phone, cell), None, location)
