"""Campaigns: what to send, to whom, when, and how fast."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator, model_validator

from chalicelib.domain.contact import Contact
from chalicelib.domain.policy import Area, Intent, Purpose, normalise_area
from chalicelib.domain.template import Template


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class Audience(BaseModel):
    """Who a campaign is for: every tag, every attribute value, and (if set) the area."""

    tags: list[str] = Field(default_factory=list, max_length=20)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=20)

    def matches(self, contact: Contact) -> bool:
        if any(tag not in contact.tags for tag in self.tags):
            return False
        values = contact.attributes
        return all(name in values and values[name].value == value for name, value in self.attributes.items())


class Location(BaseModel):
    """The place a campaign's offer belongs to."""

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

    name: str = Field(min_length=1, max_length=120)
    purpose: Purpose = Purpose.MARKETING
    message: str = Field(min_length=1, max_length=1600, description="a template: Hi {first_name|there}")
    audience: Audience = Field(default_factory=Audience)
    location: Location | None = None
    send_at: datetime = Field(description="when the run starts (ISO 8601 with an offset)")
    relevance_hours: float = Field(default=24, gt=0, le=24 * 30, description="after this, unsent texts are dropped")
    messages_per_second: float = Field(default=1, gt=0, le=100)

    @field_validator("message")
    @classmethod
    def _safe_template(cls, text: str) -> str:
        Template(text)  # raises TemplateError, a ValueError: pydantic reports it
        return text

    @field_validator("send_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("send_at needs a UTC offset, e.g. 2026-12-01T10:00:00Z")
        return value

    @model_validator(mode="after")
    def _location_needs_marketing(self) -> CampaignSpec:
        if self.location is not None and self.purpose != Purpose.MARKETING:
            raise ValueError("only marketing campaigns are tied to a location")
        return self


class Campaign(CampaignSpec):
    id: str
    status: CampaignStatus = CampaignStatus.ACTIVE
    created_at: datetime
    updated_at: datetime
    version: int = 0

    @property
    def deadline(self) -> datetime:
        return self.send_at + timedelta(hours=self.relevance_hours)

    def template(self) -> Template:
        return Template(self.message)

    def intent(self, already_sent: bool = False) -> Intent:
        return Intent(
            purpose=self.purpose,
            deadline=self.deadline,
            area=self.location.area() if self.location else None,
            campaign_paused=self.status == CampaignStatus.PAUSED,
            already_sent_in_run=already_sent,
        )

    def text_for(self, contact: Contact) -> str:
        return self.template().render({name: attribute.value for name, attribute in contact.attributes.items()})
