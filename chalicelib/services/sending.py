"""Use case on the send queue: one campaign text (or the question sent instead)
to one contact, decided again at send time, claimed once, paced, recorded.
The stages: send_text.py (what the job carries) -> send_pace.py (its slot) ->
send_claim.py (decide, claim) -> send_twilio.py (the call, the record)."""

from __future__ import annotations

import math
from dataclasses import replace

from chalicelib.domain.ledger import Fate
from chalicelib.domain.stores import origin_of
from chalicelib.services.send_claim import decide_and_claim, would_send
from chalicelib.services.send_pace import wait_for_slot
from chalicelib.services.send_text import BatchReads, SendContext, SendJob, TextAttempt, segments_before
from chalicelib.services.send_twilio import call_twilio


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
    paced = not intent.campaign_paused
    text = TextAttempt(job, campaign, run, intent, ctx.clock.now(), paced, origin, blocks=reads.blocks)
    text.segments = segments_before(text, contact, reads, ctx)
    # decided first: a text dropped or held takes no slot (decided again at the slot, as things change)
    if text.paced and would_send(text, contact, ctx) and (deferred := wait_for_slot(text, ctx)) is not None:
        return deferred
    claimed = decide_and_claim(text, contact, reads, ctx)
    if isinstance(claimed, Fate):
        return claimed
    return call_twilio(text, claimed, reads, ctx)
