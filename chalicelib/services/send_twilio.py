"""The one Twilio call of a claimed text, what Twilio said recorded; a dead
sender's text looked for at Twilio before anything is sent again."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import Contact, consent_added
from chalicelib.domain.delivery import Receipt, reachability
from chalicelib.domain.errors import LookupUnavailableError
from chalicelib.domain.ledger import LEDGER_KEPT, SEGMENTS, Claim, Fate, segments_in, settlement
from chalicelib.domain.messages import DeliveryStatus, Direction, Message
from chalicelib.domain.phone import country_of
from chalicelib.domain.policy import PromptId, Verdict
from chalicelib.domain.prompts import Prompt
from chalicelib.domain.runs import DecisionRecord, after_send
from chalicelib.domain.segments import segments
from chalicelib.services.ports import SendOutcome, SendResult, Write
from chalicelib.services.recording import record_sent
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.send_pace import SLOT_AHEAD_S, leave_in_turn, take_slots
from chalicelib.services.send_text import (
    BatchReads,
    Claimed,
    Outgoing,
    SendContext,
    SendJob,
    TextAttempt,
    backoff_s,
    message_for,
)
from chalicelib.services.status import run_counts

MAX_VALIDITY_S = 36_000  # Twilio's longest ValidityPeriod
# Twilio's refusals that say something about the number; platform errors (20xxx) never do.
NUMBER_ERRORS = frozenset({21610, 21614, 30003, 30005, 30006})


def call_twilio(text: TextAttempt, claimed: Claimed, reads: BatchReads, ctx: SendContext) -> Fate:
    """At its slot, the one Twilio call; what Twilio said, recorded."""
    if text.paced:
        needed = max(1, segments(claimed.outgoing.text).count)
        if needed > text.segments:  # a longer question instead of the offer: a slot of its own size
            text.segments = needed
            take_slots(text, ctx.clock.now().timestamp() + SLOT_AHEAD_S, ctx, alone=True)
        leave_in_turn(text, ctx)
    deadline = text.intent.deadline or text.run.scheduled_for + LEDGER_KEPT
    valid_for = int(min(MAX_VALIDITY_S, max(1, (deadline - ctx.clock.now()).total_seconds())))
    phone = claimed.contact.phone
    result = ctx.sender.send(phone, claimed.outgoing.text, valid_for, text.origin.sender)
    if result.outcome == SendOutcome.ACCEPTED and result.sid:
        reads.forget(phone)  # recorded as sent: the read is stale now
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


def reconcile(
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
    if not body and contact is not None and not campaign.asks:  # claimed before bodies were kept
        body = message_for(campaign, contact, text.cell(contact), ctx)
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


def _record_sent(text: TextAttempt, claimed: Claimed, result: SendResult, ctx: SendContext) -> None:
    """Store what went out, with the entry settled sent, the decision's outcome and
    the run's count in the same write (recording.py). A receipt a status callback
    stored before this record is counted with it, as status.py would have."""
    sid, at, outgoing, run_id = result.sid or "", ctx.clock.now(), claimed.outgoing, text.run.id
    sent = Message(
        sid=sid, phone=claimed.contact.phone, brand_number=result.from_number or "", direction=Direction.OUTBOUND,
        at=at, body=outgoing.text, status=DeliveryStatus.QUEUED, run_id=run_id, cell=claimed.record.cell,
    )  # fmt: skip
    outcome = claimed.record.model_copy(update={"outcome": Fate.SENT, "sid": sid})
    sent_segments = max(1, segments(outgoing.text).count)  # what Twilio bills, by the country it went to
    counts = {
        **settlement(Fate.SENT).counts,
        SEGMENTS: sent_segments,
        segments_in(country_of(sent.phone)): sent_segments,
    }

    def settles(stored: Message | None) -> list[Write]:
        early = run_counts(None, stored.status) if stored is not None else {}
        return [
            ctx.runs.ledger.sent(run_id, sent.phone, claimed.attempt, sid),
            ctx.runs.holds.decided(outcome),
            *ctx.runs.counted(run_id, sent.phone, dict(Counter(counts) + Counter(early)), sent.cell),
        ]

    def after(contact: Contact, when: datetime) -> Contact:
        return after_send(contact, text.campaign.purpose, outgoing.prompt, outgoing.location, run_id, when, sent.cell)

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
