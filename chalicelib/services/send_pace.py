"""A text's slot of its sender's pace (and of its campaign's own, if capped):
taken, slept to, and taken again when missed."""

from __future__ import annotations

import math
from dataclasses import replace

from chalicelib.domain.campaign import Campaign
from chalicelib.domain.ledger import Fate
from chalicelib.domain.runs import Run, breaker_reason
from chalicelib.services.campaigns import trip_breaker
from chalicelib.services.send_text import SendContext, TextAttempt

CLAIM_LEAD_S = 0.1  # a text is decided and claimed this long before its slot, so the claim never delays the send
SLOT_AHEAD_S = 0.03  # a slot at least this far ahead: the claim (one transaction) fits before it, even at once
SLOT_TOLERANCE_S = 0.01  # a text later than this for its slot takes a new one (PACE_MARGIN leaves 0.03 s a second)
TIME_KEPT_S = 10.0  # of a sender's remaining time: for the Twilio call and the record after its slot
SLOT_RETAKES = 5  # a text late for its slot takes a new one at most this often


def wait_for_slot(text: TextAttempt, ctx: SendContext) -> Fate | None:
    """Take the next slot of its sender's pace (after one of the campaign's own,
    if it has a rate of its own) and sleep until just before it; DEFERRED when the
    slot lies beyond this sender's time (queued again for it). A breaker seen or
    tripped pauses the text instead (it is held, not sent; its slot goes unused)."""
    current = take_slots(text, text.now.timestamp() + SLOT_AHEAD_S, ctx)  # a slot at `now` would be missed
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


def take_slots(text: TextAttempt, earliest: float, ctx: SendContext, alone: bool = False) -> Run | None:
    """Its slot (text.send_at): the campaign's own first, if it has a rate of its
    own, then its sender's at or after it (from its batch's block, unless `alone`:
    a text late for its slot takes one of its own). The run as the campaign's slot found it."""
    current = None
    if text.capped:
        earliest, current = ctx.runs.take_slot(text.run.id, text.own_interval_s, earliest)
    pace, unit = text.origin.pace, text.segment_s
    # a capped text's earliest is its own campaign slot, past the block's next: a block would go mostly unused
    text.send_at = text.blocks.take(ctx.runs.senders, pace, unit, text.segments, earliest, alone or text.capped)
    return current


def keep_slot(text: TextAttempt, ctx: SendContext) -> None:
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
        take_slots(text, ctx.clock.now().timestamp(), ctx, alone=True)


def leave_in_turn(text: TextAttempt, ctx: SendContext) -> None:
    """At its slot, and in its turn: each of its paces' width after its batch's
    last text from them. A text whose turn comes after its slot (the one before
    it left late) takes a slot of its own at its turn, never leaving in a slot
    the pace gave another. Within the sender's remaining time: past it, it goes."""
    for _ in range(SLOT_RETAKES):
        keep_slot(text, ctx)
        now = ctx.clock.now().timestamp()
        turn = text.blocks.turn(text.widths(), now, SLOT_TOLERANCE_S)
        if turn - now <= SLOT_TOLERANCE_S:
            ctx.clock.sleep(turn - now)
            return
        if turn - now > ctx.remaining_s() - TIME_KEPT_S:
            return  # no time to wait for its turn: rare (a slow cap, the handler's last seconds)
        take_slots(text, turn, ctx, alone=True)


def _trip(run: Run, campaign: Campaign, ctx: SendContext) -> bool:
    """Pause the campaign when this run's texts hurt (counts as of this batch)."""
    reason = breaker_reason(run.counts, ctx.breaker)
    return reason is not None and trip_breaker(run.id, campaign.id, reason, ctx.campaigns, ctx.runs, ctx.clock)
