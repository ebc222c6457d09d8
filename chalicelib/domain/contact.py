"""The contact aggregate: consent history, engagement, deliverability, zones."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, computed_field, model_validator

from chalicelib.domain.errors import RapportError
from chalicelib.domain.orders import OrderSummary
from chalicelib.domain.template import Template

# A profile stays one small item: these bound what imports may add to it.
MAX_TAGS = 50
MAX_ATTRIBUTES = 50
MAX_NAME_LENGTH = 40  # a tag or an attribute's name
MAX_VALUE_LENGTH = 256  # an attribute's value


class ProfileLimitError(RapportError, ValueError):
    """A change would grow a profile past its bounds."""


REMEMBERED_STOP = "stop_before_erasure"  # an erased number that had opted out, imported again (services/personal.py)


class ConsentState(StrEnum):
    UNKNOWN = "unknown"
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


class ConsentProof(BaseModel):
    """How a double opt-in was asked for: the version of the words shown, where
    and when, and from which browser (a web form) or which text (JOIN). The YES
    that confirms it is the event's own message sid."""

    text_version: str
    source: str  # "sms" (JOIN by text), or the form's own name
    requested_at: datetime
    ip: str | None = None
    user_agent: str | None = None
    message_sid: str | None = None  # the JOIN text


class ConsentEvent(BaseModel):
    """One change of consent, brand-wide: whichever of the brand's numbers it
    arrived on. The profile holds the latest; every one is kept as its own item."""

    state: ConsentState
    source: str  # keyword | natural_language | twilio_advanced_opt_out | carrier_error | import
    at: datetime
    keyword: str | None = None
    channel: str = "sms"
    brand_number: str | None = None
    message_sid: str | None = None
    error_code: int | None = None
    proof: ConsentProof | None = None  # a double opt-in's request, which this event (the YES) confirms

    @property
    def by_customer(self) -> bool:
        """The customer's own word: a text they sent (a keyword, plain words,
        Twilio's Advanced Opt-Out) or their carrier's report of their STOP, each
        under its message sid; or their STOP remembered through an erasure. An
        import's or a form's record is none of these."""
        return self.message_sid is not None or self.source == REMEMBERED_STOP


def standing(
    customer: ConsentEvent | None, brand: ConsentEvent | None, brand_opt_out: ConsentEvent | None
) -> ConsentEvent | None:
    """The consent that stands: the customer's own latest word, whatever the
    brand's records say or when they are stamped, except any brand opt-out made
    after it (a request by phone, say: suppressing is always safe), which a
    later brand opt-in does not undo. With no word of the customer's, the
    brand's latest record."""
    if customer is None:
        return brand
    if brand_opt_out is not None and brand_opt_out.at > customer.at:
        return brand_opt_out
    return customer


class Engagement(BaseModel):
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    unanswered_marketing: int = 0
    inbound_count: int = 0
    outbound_count: int = 0
    marketing_sent_at: list[datetime] = Field(default_factory=list)  # recent ones, for caps and sunset
    reengagement_asked_at: datetime | None = None
    last_run_id: str | None = None  # the campaign run of the latest text, for opt-out attribution
    last_campaign_run_id: str | None = None  # the latest campaign text's run: replies and orders count for it
    last_campaign_at: datetime | None = None  # when that text went
    last_campaign_cell: str | None = None  # that text's store and variant in its run (domain/experiment.py)
    last_clicked_at: datetime | None = None  # the latest counted click on one of our links (domain/links.py)


class DeliverabilityState(StrEnum):
    OK = "ok"
    UNDELIVERABLE = "undeliverable"


class Deliverability(BaseModel):
    state: DeliverabilityState = DeliverabilityState.OK
    reason: str | None = None
    last_error_code: int | None = None
    consecutive_unreachable: int = 0  # 30003 receipts in a row
    updated_at: datetime | None = None


class TimeZone(BaseModel):
    confirmed: str | None = None
    candidates: list[str] = Field(default_factory=list)


class HomeLocation(BaseModel):
    """Where the customer lives, as far as we know: a postcode or ZIP."""

    area: str  # normalised: upper case, no spaces (SW1A1AA, 94103)
    region: str | None = None  # e.g. a US state code, for state-specific rules
    confirmed_at: datetime | None = None
    source: str = "import"


class StoreSource(StrEnum):
    """Where a contact's store came from: the latest of an import and an order
    wins; the home area only gives one to a contact that has none from either."""

    IMPORT = "import"
    ORDER = "order"
    HOME = "home"


class PendingPrompt(BaseModel):
    """A question we asked that awaits its answer."""

    prompt_id: str
    asked_at: datetime
    expires_at: datetime
    location: str | None = None  # what "still near {location}?" asked about
    reasked: bool = False  # the re-ask is used once
    about: str | None = None  # what it offered: the order a REORDER's YES repeats (domain/reorder.py)
    proof: ConsentProof | None = None  # a double opt-in's request, which its YES confirms (domain/double_opt_in.py)


class Conversation(BaseModel):
    """The open one-to-one thread an agent will pick up."""

    opened_at: datetime
    last_inbound_at: datetime
    message_count: int = 1
    waiting_since: datetime | None = None  # the first customer text no agent has answered yet
    agent: str | None = None  # who has claimed it
    claimed_at: datetime | None = None
    last_reply_at: datetime | None = None
    read_count: int = 0  # the customer's texts (of message_count) an agent has read: opened or answered
    read_by: str | None = None  # the agent who read them last

    @property
    def unread(self) -> int:
        """The customer's texts in this conversation no agent has read yet."""
        return max(0, self.message_count - self.read_count)


class Attribute(BaseModel):
    """A profile field with where it came from and when."""

    value: str
    source: str  # import | prompt:<id> | api
    updated_at: datetime
    message_sid: str | None = None  # the text that answered, for prompt answers
    by: str | None = None  # the API key's name that set it (imports)


class FieldChange(BaseModel):
    """One profile field set by an answer: the value before stays on record."""

    field: str
    old: str | None
    new: str
    source: str
    message_sid: str | None = None
    at: datetime


class Contact(BaseModel):
    phone: str
    created_at: datetime
    attributes: dict[str, Attribute] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    # Consent in three registers, each the latest of its kind by time (so the order
    # in which they arrive never matters); `consent_event` is the one that stands.
    customer_consent: ConsentEvent | None = None  # their texts, their carrier's STOP
    brand_consent: ConsentEvent | None = None  # imports, forms
    brand_opt_out: ConsentEvent | None = None  # the brand's latest opt-out record: stands over an earlier word
    engagement: Engagement = Field(default_factory=Engagement)
    deliverability: Deliverability = Field(default_factory=Deliverability)
    time_zone: TimeZone = Field(default_factory=TimeZone)
    home: HomeLocation | None = None
    store_id: str | None = None  # the branch its texts go from (domain/stores.py)
    store_source: StoreSource | None = None
    store_since: datetime | None = None  # when that source named it
    orders: OrderSummary = Field(default_factory=OrderSummary)  # as the ordering system's events tell
    conversation: Conversation | None = None
    pending_prompt: PendingPrompt | None = None
    version: int = 0  # optimistic concurrency for whole-profile writes: bumped on each one

    @model_validator(mode="before")
    @classmethod
    def _event_to_its_register(cls, data: Any) -> Any:
        """A `consent_event` given whole (as stored before the registers, or by a
        caller with one event) goes to the register of whoever gave it."""
        if not isinstance(data, dict) or "consent_event" not in data:
            return data
        data = dict(data)
        event = data.pop("consent_event")
        if event is not None:
            event = ConsentEvent.model_validate(event)
            current = {name: data.get(name) for name in _registers(event)}
            data.update(_placed({name: _event(value) for name, value in current.items()}, event))
        return data

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Contact:
        """As pydantic's, but refusing `consent_event`, which it would drop without a word."""
        if update and "consent_event" in update:
            raise TypeError("consent_event is computed: use with_consent, or set customer_consent or brand_consent")
        return super().model_copy(update=update, deep=deep)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def consent_event(self) -> ConsentEvent | None:
        """The consent that stands (`standing`)."""
        return standing(self.customer_consent, self.brand_consent, self.brand_opt_out)

    @property
    def consent(self) -> ConsentState:
        event = self.consent_event
        return event.state if event else ConsentState.UNKNOWN

    def with_consent(self, event: ConsentEvent) -> Contact:
        """The contact with this event in each of its registers where it is the
        latest of its kind (texts and imports can be applied out of order)."""
        placed = _placed({name: getattr(self, name) for name in _registers(event)}, event)
        return self.model_copy(update=placed) if placed else self


def _registers(event: ConsentEvent) -> tuple[str, ...]:
    """The registers an event belongs in: the customer's own, or the brand's (and
    its opt-outs', for an opt-out)."""
    if event.by_customer:
        return ("customer_consent",)
    return ("brand_consent", "brand_opt_out") if event.state == ConsentState.OPTED_OUT else ("brand_consent",)


def _placed(current: Mapping[str, ConsentEvent | None], event: ConsentEvent) -> dict[str, ConsentEvent]:
    """The registers this event replaces: those holding nothing or something older."""
    return {name: event for name, held in current.items() if held is None or held.at <= event.at}


def _event(value: object) -> ConsentEvent | None:
    return None if value is None else ConsentEvent.model_validate(value)


def with_store(contact: Contact, store_id: str, source: StoreSource, at: datetime) -> Contact:
    """The contact with this store, unless a later import or order named one (a
    home-derived store never replaces one that an import or an order gave)."""
    named = contact.store_source in (StoreSource.IMPORT, StoreSource.ORDER)
    if named and (source == StoreSource.HOME or (contact.store_since is not None and contact.store_since > at)):
        return contact
    return contact.model_copy(update={"store_id": store_id, "store_source": source, "store_since": at})


def consent_added(before: Contact | None, after: Contact) -> list[ConsentEvent]:
    """The consent events a write of `after` over `before` records, for the
    trail: every one kept, whether or not it stands."""
    added = []
    for register in ("customer_consent", "brand_consent", "brand_opt_out"):
        event = getattr(after, register)
        if event is not None and event != (getattr(before, register) if before else None) and event not in added:
            added.append(event)
    return added


def fill_for(text: str, contact: Contact, store: Mapping[str, str]) -> str:
    """The template filled with the contact's attributes and its store's fields
    (fallbacks for the missing): what a campaign sends them, and what an
    agent's saved reply says to them."""
    values = {name: attribute.value for name, attribute in contact.attributes.items()}
    return Template(text).render({**values, **store})
