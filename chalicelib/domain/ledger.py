"""One text to one contact, sent at most once: a campaign run's text (its
entry named by the run), or an agent's reply or question (named by its
Idempotency-Key, `conversation_text`). The states it goes through, and what
each way it can end does to the run's counts and the recorded decision.

    (planned) -> sending (claimed, with a lease) -> sent | failed | unknown
        |            \\-> lease expired: reconciled with Twilio (the body the claim stored)
        |                 -> sent | unknown (Twilio cannot say), or decided again: claimed again,
        |                    dropped or released in the dead sender's place
        |-> dropped (the policy said no at send time)
        \\-> released (held, retried later, deferred) -> sending ...

The claim is taken at the last moment, just before the Twilio call, in the
same write that marks the entry `sending` (and reserves the contact's
marketing slot): until then a sender has nothing to give back if it dies, and
one write fewer per text. A claim is a lease: an entry still `sending` after
its lease may have gone, so it is reconciled against Twilio's own record of
what it sent (the body the claim stored, not one derived again from a contact
that may have changed since), never sent again blindly, never left `sending`:
whatever the decision at redelivery, the stale entry is reconciled first, and
a job meeting another sender's live lease comes back when it ends. Every
planned text ends in a terminal state or is still pending, so for each run:

    planned = out + failed + unknown + dropped + pending
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum


class LedgerState(StrEnum):
    SENDING = "sending"  # claimed: the Twilio call is (or was) in flight, under a lease
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # sent, but nobody can tell whether it went: never resent
    DROPPED = "dropped"  # the policy said no at send time: final for this run
    RELEASED = "released"  # given back (held, retry later, deferred): the next claim takes it


TERMINAL = frozenset({LedgerState.SENT, LedgerState.FAILED, LedgerState.UNKNOWN, LedgerState.DROPPED})
LEASE = timedelta(minutes=4)  # longer than a send function may run (its timeout is 120 s)
RETRY_FIRST_S, RETRY_MAX_S = 15, 900  # Twilio unavailable: wait 15 s, doubled per try up to 15 minutes (SQS's most)
BODY_KEPT = 1600  # characters of the claimed body stored on the entry (Twilio's longest body)
LEDGER_KEPT = timedelta(days=30)  # past any deadline, so "once per run" holds for good

# Run counters (keys of Run.counts besides "<verdict>/<reason>").
PLANNED = "planned"  # texts planning queued or held
OUT = "out"  # handed to Twilio, accepted
FAILED = "failed"  # refused by Twilio, or given up at the deadline
UNKNOWN = "unknown"
DROPPED = "dropped"  # the policy said no at send time
UNDELIVERED = "undelivered"  # accepted, then reported failed/undelivered by a receipt
DELIVERED = "delivered"  # accepted, then reported delivered by a receipt (services/status.py)
OPTED_OUT = "opted_out"  # recipients who opted out after this run's text
CLICKED = "clicked"  # recipients who clicked a link in this run's text (once each, within its window)
REPLIED = "replied"  # recipients whose first text after this run's came within 24 hours (not a STOP)
ORDERED = "ordered"  # orders placed within the attribution window after this run's text
SEGMENTS = "segments"  # SMS segments sent; and per destination country, `segments_<CC>`
REVENUE = "revenue_"  # + currency: the minor units those orders came to (`revenue_GBP`)


def segments_in(country: str) -> str:
    return f"{SEGMENTS}_{country}"


SETTLED_COUNTS = (OUT, FAILED, UNKNOWN, DROPPED)


class Fate(StrEnum):
    """What became of one text: the one name for it in the ledger's settlements,
    the run's counts, the decision log and the send metrics. The first seven end
    an attempt (SETTLEMENTS: how each settles the ledger entry); the others say
    what a send job did instead (a metric dimension)."""

    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # it may have gone: never sent again
    DROPPED = "dropped"
    RETRY = "retry"  # Twilio busy or down: again later, until the deadline
    HELD = "held"  # not now (quiet hours, a conversation, a paused campaign): the tick brings it back
    DEFERRED = "deferred"  # its slot is beyond this sender's remaining time: queued again
    RECONCILED = "reconciled"  # a dead sender's text: Twilio had taken it, now recorded
    DUPLICATE = "duplicate"  # its text is settled, or given back with its own job to come back
    LEASED = "leased"  # another sender holds its lease: queued again for when the lease ends
    PAUSED = "paused"  # held for its campaign's pause
    GONE = "gone"  # the contact, run or campaign no longer exists


@dataclass(frozen=True)
class Settlement:
    state: LedgerState
    counts: Mapping[str, int] = field(default_factory=dict)
    decision_outcome: Fate | None = None  # written on the recorded decision


SETTLEMENTS = {  # the fates that end an attempt
    Fate.SENT: Settlement(LedgerState.SENT, {OUT: 1}, Fate.SENT),
    Fate.FAILED: Settlement(LedgerState.FAILED, {FAILED: 1}, Fate.FAILED),
    Fate.UNKNOWN: Settlement(LedgerState.UNKNOWN, {UNKNOWN: 1}, Fate.UNKNOWN),
    Fate.DROPPED: Settlement(LedgerState.DROPPED, {DROPPED: 1}, None),
    Fate.RETRY: Settlement(LedgerState.RELEASED),
    Fate.HELD: Settlement(LedgerState.RELEASED),
    Fate.DEFERRED: Settlement(LedgerState.RELEASED),
}


CONVERSATION = "talk#"  # entries of texts sent in a conversation (replies, questions): no run to count them


def conversation_text(scope: str, key: str) -> str:
    """The entry of one reply or question, named by its route and Idempotency-Key."""
    return f"{CONVERSATION}{scope}#{key}"


def in_conversation(text: str) -> bool:
    """Whether the entry `text` is a reply's or a question's (else a run's)."""
    return text.startswith(CONVERSATION)


def settlement(fate: Fate, text: str = "") -> Settlement:
    """How `fate` settles the entry of `text` (a run's id counts on the run)."""
    if fate not in SETTLEMENTS:
        raise ValueError(f"{fate} ends no attempt: it settles nothing")
    result = SETTLEMENTS[fate]
    return replace(result, counts={}) if in_conversation(text) else result


def pending(counts: Mapping[str, int]) -> int:
    """Planned texts not yet in a terminal state."""
    return counts.get(PLANNED, 0) - sum(counts.get(name, 0) for name in SETTLED_COUNTS)


class ClaimStatus(StrEnum):
    TAKEN = "taken"  # this sender holds the lease now
    BUSY = "busy"  # another sender holds a live lease (Claim.lease_until), or the text is settled

    STALE_SENDING = "stale_sending"  # a sender died during (or around) the Twilio call
    CHANGED = "changed"  # the contact changed since the read the decision was made on: read it, decide again
    PAUSED = "paused"  # the run's breaker tripped since the batch read it: decide again, paused


@dataclass(frozen=True)
class Claim:
    status: ClaimStatus
    attempt: str = ""  # the claim's token: its outcome is written only while the entry still holds it
    sending_since: datetime | None = None  # STALE_SENDING: when the dead sender called Twilio
    body: str = ""  # STALE_SENDING: what the dead sender was about to send (what to look for at Twilio)
    lease_until: datetime | None = None  # BUSY: another sender's live lease, until then; None: settled


def claimable(
    state: LedgerState | None,
    lease_until: datetime | None,
    now: datetime,
    attempt: str | None = None,
    take_over: str | None = None,
) -> ClaimStatus:
    """Whether a claim at `now` takes an entry in this state (held by `attempt`).
    `take_over`: the dead sender's attempt, reconciled with Twilio (not sent):
    only that very attempt, still `sending`, is taken over (once)."""
    if take_over is not None:
        return ClaimStatus.TAKEN if state == LedgerState.SENDING and attempt == take_over else ClaimStatus.BUSY
    if state is None or state == LedgerState.RELEASED:
        return ClaimStatus.TAKEN
    if state == LedgerState.SENDING and lease_until is not None and lease_until <= now:
        return ClaimStatus.STALE_SENDING
    return ClaimStatus.BUSY


def found(
    state: LedgerState | None,
    lease_until: datetime | None,
    now: datetime,
    attempt: str | None = None,
    sending_since: datetime | None = None,
    body: str = "",
    take_over: str | None = None,
) -> Claim:
    """What a claim at `now` finds in an entry it did not write (or a look at
    it): free (TAKEN), a dead sender's (STALE_SENDING, with what it was sending),
    another sender's live lease (BUSY, until when), or settled (BUSY)."""
    status = claimable(state, lease_until, now, attempt, take_over)
    if status == ClaimStatus.TAKEN:
        return Claim(status)
    if state == LedgerState.SENDING and lease_until is not None:
        if lease_until <= now:
            return Claim(ClaimStatus.STALE_SENDING, attempt=attempt or "", sending_since=sending_since, body=body)
        return Claim(ClaimStatus.BUSY, lease_until=lease_until)
    return Claim(ClaimStatus.BUSY)


@dataclass(frozen=True)
class LedgerEntry:
    """An entry as stored: where its text stands."""

    state: LedgerState
    attempt: str = ""
    sending_at: datetime | None = None
    lease_until: datetime | None = None
    body: str = ""  # the claimed text (its first BODY_KEPT characters)
    sid: str = ""  # Twilio's, once sent
    request: str = ""  # the request that claimed it (a conversation text's request hash)
    detail: str = ""  # why it settled so

    def found(self, now: datetime, take_over: str | None = None) -> Claim:
        """What a claim at `now` (taking over `take_over`) would find in it."""
        return found(self.state, self.lease_until, now, self.attempt, self.sending_at, self.body, take_over)


def look(entry: LedgerEntry | None, now: datetime, take_over: str | None = None) -> Claim:
    """What a claim at `now` would find in the entry (None: there is none)."""
    return entry.found(now, take_over) if entry is not None else found(None, None, now, take_over=take_over)
