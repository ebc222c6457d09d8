"""Campaigns: what to send, to whom, when, and how fast."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.contact import Contact, fill_for
from chalicelib.domain.experiment import HOLDOUT, Variant, cell, held_out, variant_of
from chalicelib.domain.ids import STORE_ID
from chalicelib.domain.policy import (
    CAMPAIGN_PURPOSES,
    Area,
    Decision,
    Intent,
    PolicySettings,
    Purpose,
    Reason,
    Verdict,
    decide,
    normalise_area,
)
from chalicelib.domain.prompts import ASKED_BY_THE_CUSTOMER
from chalicelib.domain.stores import Store
from chalicelib.domain.template import Template

LONGEST_RELEVANCE_HOURS = 24 * 14  # SQS keeps a queued text at most 14 days (the send queue's retention)


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class Audience(BaseModel):
    """Who a campaign is for: every tag, every attribute value, one of the stores
    (if any is named), and how recently and how often they ordered (if set)."""

    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    tags: list[str] = Field(default_factory=list, max_length=20)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=20)
    stores: list[Annotated[str, StringConstraints(pattern=STORE_ID.pattern)]] = Field(
        default_factory=list, max_length=100, description="contacts of these stores only (GET /api/stores)"
    )
    ordered_within_days: int | None = Field(default=None, ge=1, le=3650, description="an order in the last N days")
    not_ordered_for_days: int | None = Field(
        default=None, ge=1, le=3650, description="no order in the last N days (never ordered counts)"
    )
    min_orders: int | None = Field(default=None, ge=1, le=100_000, description="at least N orders")

    def left_out(self, contact: Contact, at: datetime) -> str | None:
        """Why the contact is not in the audience at `at` (None: it is), as the preview says it."""
        if missing := [tag for tag in self.tags if tag not in contact.tags]:
            return f"no tag {missing[0]}"
        values = contact.attributes
        for name, value in self.attributes.items():
            if name not in values or values[name].value != value:
                return f"{name} is not {value}"
        if self.stores and contact.store_id not in self.stores:
            return "not a customer of these stores"
        last, count = contact.orders.last_at, contact.orders.count
        if self.ordered_within_days and (last is None or last < at - timedelta(days=self.ordered_within_days)):
            return f"no order in the last {self.ordered_within_days} days"
        if self.not_ordered_for_days and last is not None and last >= at - timedelta(days=self.not_ordered_for_days):
            return f"ordered in the last {self.not_ordered_for_days} days"
        if self.min_orders and count < self.min_orders:
            return f"fewer than {self.min_orders} orders"
        return None

    def explained(self, decision: Decision, contact: Contact, at: datetime) -> Decision:
        """The decision on a contact in the audience, its explanation saying how the
        contact met the audience's order rules (if it has any)."""
        rules = self._order_rules_met(contact, at)
        return replace(decision, explanation=f"{decision.explanation} In the audience: {rules}.") if rules else decision

    def _order_rules_met(self, contact: Contact, at: datetime) -> str:
        last, count = contact.orders.last_at, contact.orders.count
        ago = "never ordered" if last is None else f"last order {(at - last).days} days ago"
        met = []
        if self.ordered_within_days:
            met.append(f"{ago}, within {self.ordered_within_days}")
        if self.not_ordered_for_days:
            met.append(f"{ago}, none in the last {self.not_ordered_for_days}")
        if self.min_orders:
            met.append(f"{count} orders, at least {self.min_orders}")
        return "; ".join(met)


class Location(BaseModel):
    """The place a campaign's offer belongs to."""

    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    name: str = Field(min_length=1, max_length=80)
    prefixes: list[str] = Field(min_length=1, max_length=200, description="postcode districts or ZIP prefixes")

    @field_validator("prefixes")
    @classmethod
    def _normalise(cls, prefixes: list[str]) -> list[str]:
        cleaned = [normalise_area(p) for p in prefixes]
        if not all(cleaned):
            raise ValueError("a prefix is empty")
        return cleaned

    def area(self) -> Area:
        return Area(name=self.name, prefixes=tuple(self.prefixes))


class CampaignSpec(BaseModel):
    """What an operator writes."""

    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    name: str = Field(min_length=1, max_length=120)
    purpose: Purpose = Field(
        default=Purpose.MARKETING, description="marketing (a message) or question (a prompt_id); the default follows"
    )
    message: str | None = Field(
        default=None, min_length=1, max_length=1600, description="a template: Hi {first_name|there}"
    )
    prompt_id: str | None = Field(
        default=None, pattern=r"^[a-z0-9_]{2,40}$", description="instead of a message: ask this question"
    )
    variants: list[Variant] = Field(
        default_factory=list, max_length=5, description="instead of a message: its variants, split by weight"
    )
    holdout_percent: float = Field(
        default=0, ge=0, le=50, description="a control group: this share of the audience is texted nothing"
    )
    audience: Audience = Field(default_factory=Audience)
    location: Location | None = None
    send_at: datetime = Field(description="the (first) run's time (ISO 8601 with an offset)")
    cron: str | None = Field(
        default=None, max_length=100, description="recurring: a cron expression in the brand's time zone"
    )
    relevance_hours: float = Field(
        default=24, gt=0, le=LONGEST_RELEVANCE_HOURS, description="unsent texts dropped after this (14 days at most)"
    )
    # Texts go at their sender's rate (a store's, or SENDER_MESSAGES_PER_SECOND for the brand's own number),
    # shared with every other text from it; this is a lower cap of the campaign's own, in segments a second.
    # Below 0.1 a text waits more than a sender's run time for its slot, which the senders handle but nobody needs.
    messages_per_second: float | None = Field(
        default=None, ge=0.1, le=1000, description="optional: at most this many segments a second for this campaign"
    )

    @field_validator("purpose")
    @classmethod
    def _bulk(cls, purpose: Purpose) -> Purpose:
        if purpose not in CAMPAIGN_PURPOSES:
            raise ValueError(
                f"a campaign is 'marketing' or 'question' (both need opt-in and keep quiet hours): "
                f"{purpose.value} texts come only from order events and agents' replies"
            )
        return purpose

    @field_validator("message")
    @classmethod
    def _safe_template(cls, text: str | None) -> str | None:
        if text is not None:
            Template(text)  # raises TemplateError, a ValueError: pydantic reports it
        return text

    @field_validator("send_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("send_at needs a UTC offset, e.g. 2026-12-01T10:00:00Z")
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, expression: str | None) -> str | None:
        if expression is not None:
            try:
                CronSim(expression, datetime(2026, 1, 1))
            except CronSimError as error:
                raise ValueError(f"not a cron expression: {error}") from error
        return expression

    @model_validator(mode="after")
    def _message_or_question(self) -> CampaignSpec:
        if [self.message is not None, bool(self.variants), self.prompt_id is not None].count(True) != 1:
            raise ValueError("give one of a message, variants (messages split by weight) or a prompt_id (a question)")
        if len({variant.id for variant in self.variants}) != len(self.variants):
            raise ValueError("variants need ids of their own")
        if "purpose" not in self.model_fields_set and self.prompt_id is not None:
            self.purpose = Purpose.QUESTION  # unsaid, it follows from what the campaign sends
        if (self.prompt_id is not None) != (self.purpose == Purpose.QUESTION):
            raise ValueError("a campaign that asks a question (prompt_id) has purpose question, and only it")
        if self.prompt_id in ASKED_BY_THE_CUSTOMER:  # its YES places an order or opts in
            raise ValueError(ASKED_BY_THE_CUSTOMER[self.prompt_id])
        return self

    @model_validator(mode="after")
    def _location_needs_marketing(self) -> CampaignSpec:
        if self.location is not None and self.purpose != Purpose.MARKETING:
            raise ValueError("only marketing campaigns are tied to a location")
        return self


class Campaign(CampaignSpec):
    id: str
    status: CampaignStatus = CampaignStatus.ACTIVE
    paused_reason: str | None = None
    last_run_for: datetime | None = None  # the schedule time of the latest run started
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None  # the API key's name that created it
    updated_by: str | None = None  # who changed it last: a key's name, or `breaker` when the breaker paused it
    version: int = 0

    @model_validator(mode="before")
    @classmethod
    def _saved_under_older_rules(cls, data: Any) -> Any:
        """Saved when a campaign could be transactional or conversational: its
        question is a question now, anything else marketing (opt-in, quiet hours);
        saved with a relevance beyond 14 days: 14 days."""
        if isinstance(data, dict) and data.get("purpose") in (Purpose.TRANSACTIONAL, Purpose.CONVERSATIONAL):
            data = {**data, "purpose": Purpose.QUESTION if data.get("prompt_id") else Purpose.MARKETING}
        if isinstance(data, dict) and float(data.get("relevance_hours") or 0) > LONGEST_RELEVANCE_HOURS:
            data = {**data, "relevance_hours": LONGEST_RELEVANCE_HOURS}  # saved when 30 days were allowed
        return data

    def paused(self, reason: str | None, at: datetime) -> Campaign:
        """Paused by an operator (no reason) or the circuit breaker (why)."""
        if self.status == CampaignStatus.PAUSED:
            return self
        return self.model_copy(update={"status": CampaignStatus.PAUSED, "paused_reason": reason, "updated_at": at})

    def resumed(self, at: datetime) -> Campaign:
        """Active again, whoever paused it: the breaker's reason goes with the pause."""
        if self.status == CampaignStatus.ACTIVE:
            return self
        return self.model_copy(update={"status": CampaignStatus.ACTIVE, "paused_reason": None, "updated_at": at})

    def deadline_for(self, scheduled_for: datetime) -> datetime:
        return scheduled_for + timedelta(hours=self.relevance_hours)

    def _times(self, after: datetime, zone: str) -> Iterator[datetime]:
        """Schedule times after `after`, in order."""
        if self.cron is None:
            if self.send_at > after:
                yield self.send_at
            return
        local_start = max(after, self.send_at - timedelta(seconds=1)).astimezone(ZoneInfo(zone))
        yield from CronSim(self.cron, local_start)

    def due_run(self, now: datetime, zone: str) -> datetime | None:
        """The latest schedule time that is due and still relevant, unless already run."""
        after = now - timedelta(hours=self.relevance_hours)  # older ones could only expire
        if self.last_run_for is not None:
            after = max(after, self.last_run_for)
        due = None
        for scheduled in self._times(after, zone):
            if scheduled > now:
                break
            due = scheduled
        return due

    def next_run(self, now: datetime, zone: str) -> datetime | None:
        """When a run would happen, seen from now: the due one, or the next one."""
        return self.due_run(now, zone) or next(self._times(now, zone), None)

    def intent(self, scheduled_for: datetime, stores: Iterable[Store]) -> Intent:
        """What its texts are for. A marketing campaign for named stores, with no
        location of its own, is tied to each contact's store's areas (`stores`:
        the brand's stores): a confirmed home outside them is out of that area."""
        tied = self.audience.stores and self.location is None and self.purpose == Purpose.MARKETING
        return Intent(
            purpose=self.purpose,
            deadline=self.deadline_for(scheduled_for),
            area=self.location.area() if self.location else None,
            store_areas={store.id: store.area() for store in stores if store.id in self.audience.stores}
            if tied
            else None,
            is_prompt=self.prompt_id is not None,
            campaign_paused=self.status == CampaignStatus.PAUSED,
        )

    @property
    def asks(self) -> bool:
        """It asks a question (its prompt) instead of sending a message of its own."""
        return self.prompt_id is not None

    def text_for(self, contact: Contact, store: Mapping[str, str], variant_id: str | None = None) -> str:
        """The message for this contact, `store` its store's template fields (a
        question campaign's text comes from its prompt). With variants: the one
        named (as planned), or the contact's draw when none is named or the
        variants have changed since and it is gone."""
        named = [variant for variant in self.variants if variant.id == variant_id]
        variant = named[0] if named else variant_of(contact.phone, self.id, self.variants)
        message = variant.message if variant else self.message
        if message is None:
            raise ValueError(f"campaign {self.id} asks the question {self.prompt_id!r}: it has no message")
        return fill_for(message, contact, store)

    def cell_of(self, contact: Contact) -> str:
        """Where this contact's counts go in the run's report: its store and its
        variant (the control group's, for a contact held out)."""
        if held_out(contact.phone, self.id, self.holdout_percent):
            return cell(contact.store_id, HOLDOUT)
        variant = variant_of(contact.phone, self.id, self.variants)
        return cell(contact.store_id, variant.id if variant else None)

    def decision_for(self, contact: Contact, intent: Intent, at: datetime, settings: PolicySettings) -> Decision:
        """The planned decision on a contact of the audience, explained by the
        audience's rules; one that would text it, dropped when the contact is in
        the campaign's control group (drawn here only: a text planned is not
        held out at send time by a percentage changed since)."""
        decision = self.audience.explained(decide(contact, intent, at, settings), contact, at)
        if decision.verdict == Verdict.DROP or not held_out(contact.phone, self.id, self.holdout_percent):
            return decision
        return Decision(
            Verdict.DROP,
            Reason.HOLDOUT,
            f"In the campaign's control group ({self.holdout_percent:g}% of its audience, chosen by number): "
            "texted nothing, so that the report can show what the campaign adds.",
        )
