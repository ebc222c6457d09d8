"""What one send job carries on its way: the job, the send path's context and
clocks, the batch's reads, and the text as it stands at each stage (sending.py)."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import Contact
from chalicelib.domain.experiment import cell_parts
from chalicelib.domain.ledger import LEASE, RETRY_FIRST_S, RETRY_MAX_S
from chalicelib.domain.links import plain, stand_in
from chalicelib.domain.policy import Decision, Intent, PolicySettings
from chalicelib.domain.prompts import Prompt
from chalicelib.domain.runs import BreakerSettings, DecisionRecord, Run
from chalicelib.domain.segments import segments
from chalicelib.domain.stores import Origin
from chalicelib.services.links import Shortener
from chalicelib.services.ports import (
    CampaignStore,
    Clock,
    ConversationStore,
    JobQueue,
    PromptBook,
    RunStore,
    Sender,
    SenderPace,
)
from chalicelib.services.runs import send_job
from chalicelib.services.stores import StoreDirectory

PACE_MARGIN = 1.03  # spacing a little wider than 1/MPS absorbs timing jitter


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
    links: Shortener | None = None  # a text's {link:…} made short links; None: sent as the plain target

    def linked(self, text: str, run_id: str, phone: str, cell: str | None) -> str:
        """The text as it is sent: each link short and counted (in its cell), or (no shortener) its target."""
        return self.links.shorten(text, run_id, phone, cell) if self.links else plain(text)

    def as_long_as_sent(self, text: str) -> str:
        """The text as long as it will be sent, for its segments."""
        return stand_in(text, self.links.base_url) if self.links else plain(text)


@dataclass(frozen=True)
class SendJob:
    run_id: str
    campaign_id: str
    phone: str
    retry: int = 0  # how many times Twilio asked us to come back
    cell: str | None = None  # its store and variant, fixed at planning (None: queued before cells were)

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> SendJob:
        """The job a queued body (send_job, SendJob.body) describes."""
        cell = body.get("cell")
        retry = int(body.get("retry", 0))
        return cls(str(body["run_id"]), str(body["campaign_id"]), str(body["phone"]), retry, cell and str(cell))

    def body(self) -> dict[str, str | int]:
        return {**send_job(self.run_id, self.campaign_id, self.phone, self.cell), "retry": self.retry}


def backoff_s(retry: int, rng: random.Random | None = None, timing: SendTiming = DEFAULT_TIMING) -> int:
    """15 s, 30 s, 1 min ... capped at 15 minutes (by default), jittered over the
    upper half so that texts held back by one outage do not all come back at once."""
    cap = min(timing.retry_max_s, timing.retry_first_s << min(retry, 10))
    return math.ceil((rng or random).uniform(cap / 2, cap))


@dataclass
class SlotBlocks:
    """A batch's slots of each sender's pace, taken a block at a time: one
    conditional update of the pace reserves `size` one-segment slots, handed out
    in order to the batch's texts (a text of n segments takes n). A slot left
    unused (a text dropped at its decision, or late for its slot) is a gap in the
    pace, never a second text in it; a batch of one takes slots one at a time."""

    size: int = 1
    _free: dict[str, tuple[float, float]] = field(default_factory=dict)  # sender -> (next slot, end of its block)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _next_departure: dict[str, float] = field(default_factory=dict)  # a pace -> the soonest its next text may go

    def take(
        self, senders: SenderPace, sender: str, unit_s: float, units: int, earliest: float, alone: bool = False
    ) -> float:
        """A slot of `units` one-segment slots (`unit_s` apart) at or after `earliest`;
        `alone`: a text late for its slot takes one of its own, not a block for the batch."""
        with self._lock:
            next_at, end = self._free.get(sender, (0.0, 0.0))
            if next_at < earliest or next_at + units * unit_s > end + BLOCK_EPSILON_S:
                block = units if alone else max(units, self.size)
                next_at = senders.take_slot(sender, block * unit_s, earliest)
                end = next_at + block * unit_s
            self._free[sender] = (next_at + units * unit_s, end)
            return next_at

    def turn(self, widths: Mapping[str, float], now: float, slack_s: float) -> float:
        """When this text may leave: each of its paces' width (`widths`) after the
        batch's last text from them. Within `slack_s` of `now`, its departure is
        recorded and that time returned; later, nothing is recorded and the caller,
        late for its slot, takes another. The pace spaces the slots; this spaces the
        calls: a thread that lost the CPU after its slot never goes out right on
        top of the next text of its batch."""
        with self._lock:
            ready = max((self._next_departure.get(pace, 0.0) for pace in widths), default=0.0)
            if ready > now + slack_s:
                return ready
            leaves = max(now, ready)
            for pace, width in widths.items():
                self._next_departure[pace] = leaves + width
            return leaves


BLOCK_EPSILON_S = 1e-6  # float sums of slots: a block's last slot still fits


@dataclass
class BatchReads:
    """What is read once per SQS batch: campaigns, runs, and the batch's
    contacts (one BatchGetItem). An operator's pause reaches the next batch; the
    circuit breaker is seen at every slot taken; a contact that changed after the
    batch read (a STOP, any write) is caught by the claim, which checks it is
    still as read, and is read again. The batch's texts go on threads at once:
    the first to miss reads, the others wait for it (one read each, not ten)."""

    phones: list[str] = field(default_factory=list)  # the batch's recipients, read together at the first need
    campaigns: dict[str, Campaign | None] = field(default_factory=dict)
    runs: dict[str, Run | None] = field(default_factory=dict)
    contacts: dict[str, Contact | None] = field(default_factory=dict)
    prompts: dict[str, Prompt | None] = field(default_factory=dict)
    blocks: SlotBlocks = field(default_factory=SlotBlocks)  # the batch's slots of each sender's pace
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @classmethod
    def of(cls, jobs: list[dict[str, Any]]) -> BatchReads:
        return cls.for_phones([str(job["phone"]) for job in jobs])

    @classmethod
    def for_phones(cls, phones: list[str]) -> BatchReads:
        """The reads of a batch of texts to these numbers, its slots taken a block for all of them."""
        return cls(phones=phones, blocks=SlotBlocks(size=max(1, len(phones))))

    def campaign(self, campaign_id: str, ctx: SendContext) -> Campaign | None:
        with self._lock:
            if campaign_id not in self.campaigns:
                self.campaigns[campaign_id] = ctx.campaigns.get(campaign_id)
            return self.campaigns[campaign_id]

    def run(self, run_id: str, ctx: SendContext) -> Run | None:
        with self._lock:
            if run_id not in self.runs:
                self.runs[run_id] = ctx.runs.get_run(run_id)
            return self.runs[run_id]

    def prompt(self, prompt_id: str, ctx: SendContext) -> Prompt | None:
        with self._lock:
            if prompt_id not in self.prompts:
                self.prompts[prompt_id] = ctx.prompts.get(prompt_id)
            return self.prompts[prompt_id]

    def contact(self, phone: str, ctx: SendContext) -> Contact | None:
        with self._lock:
            if phone not in self.contacts:
                wanted = [p for p in dict.fromkeys([phone, *self.phones]) if p not in self.contacts]
                found = {contact.phone: contact for contact in ctx.store.get_contacts(wanted)}
                self.contacts.update({p: found.get(p) for p in wanted})
            return self.contacts.get(phone)

    def read_again(self, phone: str, ctx: SendContext) -> Contact | None:
        contact = ctx.store.get_contact(phone)
        with self._lock:
            self.contacts[phone] = contact
        return contact

    def forget(self, phone: str) -> None:
        """Read the contact again at its next need (a text to it has changed it)."""
        with self._lock:
            self.contacts.pop(phone, None)


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
    blocks: SlotBlocks = field(default_factory=SlotBlocks)  # its batch's slots of the pace

    @property
    def segment_s(self) -> float:
        """One segment's share of the sender's pace."""
        return PACE_MARGIN / self.origin.messages_per_second

    def widths(self) -> dict[str, float]:
        """Its width of each pace it takes: its sender's, and its campaign's own if capped."""
        widths = {self.origin.pace: self.segment_s * self.segments}
        return {**widths, self.run.id: self.own_interval_s} if self.capped else widths

    @property
    def capped(self) -> bool:
        """The campaign has a rate of its own, below its senders'."""
        return self.campaign.messages_per_second is not None

    @property
    def own_interval_s(self) -> float:
        """Its share of the campaign's own pace (capped only)."""
        return PACE_MARGIN * self.segments / (self.campaign.messages_per_second or math.inf)

    def cell(self, contact: Contact | None) -> str | None:
        """Its store and variant: as planned, or (a job queued before cells were kept) as the contact is now."""
        return self.job.cell or (self.campaign.cell_of(contact) if contact else None)

    def decided(self, contact: Contact | None, decision: Decision) -> DecisionRecord:
        return DecisionRecord.of(self.job.phone, self.run, decision, self.now, "at_send", self.cell(contact))


@dataclass(frozen=True)
class Claimed:
    """A text this sender holds the ledger's lease for: about to go to Twilio."""

    contact: Contact
    outgoing: Outgoing
    record: DecisionRecord
    attempt: str  # the ledger entry's attempt this sender holds
    marketing: bool = False  # it also reserved the contact's marketing slot


@dataclass(frozen=True)
class Outgoing:
    text: str
    prompt: Prompt | None  # the question sent instead of the campaign's text
    location: str | None


def message_for(campaign: Campaign, contact: Contact, cell: str | None, ctx: SendContext) -> str:
    """The campaign's message for the contact: its cell's variant's, if the campaign has variants."""
    return campaign.text_for(contact, ctx.stores.template_fields(contact), cell_parts(cell)[1] if cell else None)


def segments_before(text: TextAttempt, contact: Contact | None, reads: BatchReads, ctx: SendContext) -> int:
    """The segments its pace slot is taken for: the campaign's text for this
    contact (or its question), before the decision (which may ask a question instead)."""
    campaign = text.campaign
    if contact is None:
        return 1
    if not campaign.asks:
        message = message_for(campaign, contact, text.cell(contact), ctx)
        return max(1, segments(ctx.as_long_as_sent(message)).count)
    prompt = reads.prompt(campaign.prompt_id or "", ctx)
    location = campaign.location.name if campaign.location else None
    return max(1, segments(prompt.text(ctx.brand_name, location)).count) if prompt else 1
