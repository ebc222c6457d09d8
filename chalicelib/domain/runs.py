"""Campaign runs: what was decided for whom, what went out, and when to stop.

A run is one scheduled occurrence of a campaign. Planning records one
decision per contact; sending re-decides at send time, claims a ledger
entry so a contact gets at most one message per run, and updates the
contact's engagement. The circuit breaker pauses a run whose texts are
causing opt-outs or failures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zlib import crc32

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.contact import Contact, PendingPrompt
from chalicelib.domain.ledger import FAILED, OPTED_OUT, OUT, UNDELIVERED, Fate
from chalicelib.domain.policy import Decision, PromptId, Purpose, Reason
from chalicelib.domain.prompts import Prompt

HOLD_SHARDS = 8  # held messages due in one minute spread over this many partitions
MARKETING_HISTORY = timedelta(days=90)  # the longest window a policy looks back


def run_id(campaign_id: str, scheduled_for: datetime) -> str:
    return f"{campaign_id}@{scheduled_for:%Y%m%dT%H%M%S%z}"


class Run(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    id: str
    campaign_id: str
    scheduled_for: datetime
    started_at: datetime
    shards: int
    shards_done: list[int] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)  # "<verdict>/<reason>" and the counters above
    breaker: str | None = None  # why the circuit breaker paused it, once it has
    resumed: bool = False  # an operator resumed it after the breaker: the breaker leaves it alone from then on


class DecisionRecord(BaseModel):
    """One contact's decision in one run, as it stands (planned, then at send time)."""

    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    phone: str
    run_id: str
    campaign_id: str
    at: datetime
    stage: str  # planned | at_send
    verdict: str
    reason: str
    explanation: str
    until: datetime | None = None
    prompt: str | None = None
    outcome: Fate | None = None  # sent | failed | unknown (what the send did)
    sid: str | None = None
    error_code: int | None = None
    cell: str | None = None  # where its counts go in the run's report: `<store>/<variant>` (domain/experiment.py)

    @classmethod
    def of(
        cls, phone: str, run: Run, decision: Decision, at: datetime, stage: str, cell: str | None = None
    ) -> DecisionRecord:
        return cls(
            phone=phone,
            cell=cell,
            run_id=run.id,
            campaign_id=run.campaign_id,
            at=at,
            stage=stage,
            verdict=decision.verdict,
            reason=decision.reason,
            explanation=decision.explanation,
            until=decision.until,
            prompt=decision.prompt,
        )


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Hold:
    """A message waiting for its time, filed under the minute the tick releases it.

    One held because its run is paused (an operator's pause or the breaker) waits
    for the hourly re-check like any other, and is also noted under its run
    (`paused`), so that a resume can bring it forward to the minute under way."""

    run_id: str
    campaign_id: str
    phone: str
    until: datetime
    minute: datetime
    paused: bool = False
    cell: str | None = None  # its store and variant, fixed when it was planned (domain/experiment.py)

    @classmethod
    def filed(
        cls,
        run_id: str,
        campaign_id: str,
        phone: str,
        until: datetime,
        now: datetime,
        reason: str | None = None,
        cell: str | None = None,
    ) -> Hold:
        # never under a minute the tick may already have released
        minute = max(minute_of(until), minute_of(now) + timedelta(minutes=1))
        return cls(run_id, campaign_id, phone, until, minute, paused=reason == Reason.CAMPAIGN_PAUSED, cell=cell)

    def moved_to(self, minute: datetime) -> Hold:
        """The same text filed under another minute (a resume brings a paused one forward)."""
        return replace(self, minute=minute)

    @property
    def shard(self) -> int:
        return crc32(self.phone.encode()) % HOLD_SHARDS


@dataclass(frozen=True)
class BreakerSettings:
    minimum_out: int = 200
    max_opt_out_rate: float = 0.02
    max_failure_rate: float = 0.10


def breaker_reason(counts: dict[str, int], s: BreakerSettings) -> str | None:
    """Why the run must pause, or None while its texts look healthy."""
    out = counts.get(OUT, 0)
    if out < s.minimum_out:
        return None
    opt_outs, failures = counts.get(OPTED_OUT, 0), counts.get(FAILED, 0) + counts.get(UNDELIVERED, 0)
    if opt_outs / out > s.max_opt_out_rate:
        return f"circuit breaker: {opt_outs} opt-outs in {out} texts ({opt_outs / out:.1%} > {s.max_opt_out_rate:.0%})"
    if failures / out > s.max_failure_rate:
        return f"circuit breaker: {failures} failures in {out} texts ({failures / out:.1%} > {s.max_failure_rate:.0%})"
    return None


def after_send(
    contact: Contact,
    purpose: Purpose,
    prompt: Prompt | None,
    location: str | None,
    run: str | None,
    at: datetime,
    cell: str | None = None,
) -> Contact:
    """The contact once a run's text (or the question sent instead) has gone (`cell`:
    its store and variant in the run)."""
    engagement = contact.engagement
    update: dict[str, object] = {
        "last_outbound_at": at,
        "outbound_count": engagement.outbound_count + 1,
        "last_run_id": run,
    }
    if run is not None:  # a campaign's text: what a reply or an order after it is counted for
        update.update(last_campaign_run_id=run, last_campaign_at=at, last_campaign_cell=cell)
    changes: dict[str, object] = {}
    if prompt is not None:
        changes["pending_prompt"] = PendingPrompt(
            prompt_id=prompt.id, asked_at=at, expires_at=prompt.expires(at), location=location
        )
        if prompt.id == PromptId.REENGAGEMENT:
            update["reengagement_asked_at"] = at
    elif purpose == Purpose.MARKETING:
        recent = [sent for sent in engagement.marketing_sent_at if sent > at - MARKETING_HISTORY]
        update["marketing_sent_at"] = [*recent, at]
        update["unanswered_marketing"] = engagement.unanswered_marketing + 1
    return contact.model_copy(update={**changes, "engagement": engagement.model_copy(update=update)})
