"""Stores: a brand's branches, each with its own area, sender and pace.

A store covers postcode districts (UK: `LS1`, `NE`) or ZIP prefixes (`941`).
A contact's store is the one whose areas hold its confirmed home, the most
specific area winning (`LS14` before `LS1` before `LS`), as a campaign's
location holds it (policy.py `covers`: `LS1` holds `LS1 4AB`, not `LS10 1AA`).
Every text to a contact goes from its store's sender (a Twilio number or a
Messaging Service), paced at the sender's own rate. A store is never deleted,
only retired: its texts, decisions and orders keep naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain import phone
from chalicelib.domain.contact import Contact, StoreSource, with_store
from chalicelib.domain.errors import InvalidPhoneError
from chalicelib.domain.ids import STORE_ID
from chalicelib.domain.policy import Area, covers, normalise_area

MESSAGING_SERVICE = re.compile(r"^MG[0-9a-f]{32}$")
MAX_AREAS = 500
MAX_MPS = 1000.0  # a short code's ceiling is far below; a typo of a few zeros is refused


class InvalidStoreIdError(ValueError):
    """A store id is 1-64 lower-case letters, digits, `-` or `_`."""


def check_store_id(store_id: str) -> str:
    if not STORE_ID.match(store_id):
        raise InvalidStoreIdError(f"store_id {store_id!r}: 1-64 lower-case letters, digits, - or _")
    return store_id


class StoreSpec(BaseModel):
    """What an operator writes for one store (`PUT /api/stores/{store_id}`). A field
    it does not know is refused: a misspelt `messages_per_second` must not leave
    the sender at a pace nobody chose."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use: the webhooks rarely need it

    name: str = Field(min_length=1, max_length=80, description="what customers call it: Pizza Co Leeds")
    time_zone: str = Field(description="IANA time zone of the store: Europe/London")
    areas: list[str] = Field(
        min_length=1, max_length=MAX_AREAS, description="postcode districts (LS1, NE) or ZIP prefixes (941)"
    )
    sender: str = Field(description="the Twilio number (E.164) or Messaging Service SID (MG...) its texts go from")
    messages_per_second: float = Field(gt=0, le=MAX_MPS, description="the sender's rate, in segments a second")
    phone: str | None = Field(default=None, description="the number customers call (named in HELP and {store_phone})")
    retired: bool = Field(default=False, description="retired stores keep their history and take no new contacts")

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("the name is blank")
        return name.strip()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is not an IANA time zone (for example Europe/London)") from None
        return zone

    @field_validator("areas")
    @classmethod
    def _areas(cls, areas: list[str]) -> list[str]:
        cleaned = [normalise_area(area) for area in areas]
        if not all(area.isalnum() for area in cleaned):
            raise ValueError("an area is empty or has characters other than letters and digits")
        return list(dict.fromkeys(cleaned))

    @field_validator("sender")
    @classmethod
    def _sender(cls, sender: str) -> str:
        if MESSAGING_SERVICE.match(sender):
            return sender
        try:
            return phone.normalise(sender)
        except InvalidPhoneError:
            raise ValueError("neither an E.164 number nor a Messaging Service SID (MG + 32 hex)") from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, number: str | None) -> str | None:
        if number is None:
            return None
        try:
            return phone.normalise(number)
        except InvalidPhoneError:
            raise ValueError("not a phone number in E.164 form (+447700900123)") from None


class Store(StoreSpec):
    id: str
    created_at: datetime
    updated_at: datetime
    updated_by: str | None = None  # the API key's name
    version: int = 0

    def area(self) -> Area:
        return Area(name=self.name, prefixes=tuple(self.areas))

    def covering(self, home: str) -> str | None:
        """The most specific of its areas that holds `home`, or None."""
        found = [area for area in self.areas if covers(area, normalise_area(home))]
        return max(found, key=len) if found else None


def home_store(contact: Contact, stores: Iterable[Store], at: datetime) -> Contact:
    """The contact with the store its confirmed home lies in, unless an import or
    an order named its store (contact.py `with_store`): unchanged when none holds it."""
    home = contact.home
    if home is None or home.confirmed_at is None:
        return contact
    found = store_for_home(stores, home.area)
    return contact if found is None else with_store(contact, found.id, StoreSource.HOME, at)


def store_for_home(stores: Iterable[Store], home: str) -> Store | None:
    """The live store whose areas hold `home` most specifically (a tie: the first by id)."""
    candidates = [(len(area), store) for store in stores if not store.retired and (area := store.covering(home))]
    return min(candidates, key=lambda c: (-c[0], c[1].id))[1] if candidates else None


BRAND_SENDER = "brand"  # the pace of the brand's own sender, for contacts without a (live) store


@dataclass(frozen=True)
class Origin:
    """Where a contact's texts go from, and that sender's pace."""

    sender: str | None  # a store's number or Messaging Service SID; None: the brand's own
    messages_per_second: float  # segments a second, shared by every text from this sender

    @property
    def pace(self) -> str:
        return self.sender or BRAND_SENDER


def origin_of(store: Store | None, brand_mps: float) -> Origin:
    """A live store's sender; the brand's own for a contact without one, or whose
    store is retired (its number may be gone)."""
    if store is None or store.retired:
        return Origin(None, brand_mps)
    return Origin(store.sender, store.messages_per_second)


def template_fields(store: Store | None, brand_name: str) -> dict[str, str]:
    """`{store_name}` and `{store_phone}` for a contact of this store (None: it has
    none, and the brand speaks for itself; a blank phone takes the template's fallback)."""
    if store is None:
        return {"store_name": brand_name, "store_phone": ""}
    return {"store_name": store.name, "store_phone": store.phone or ""}


def help_naming(help_text: str, store: Store | None) -> str:
    """HELP's answer, with the customer's store and its phone when it has one."""
    if store is None:
        return help_text
    phone_part = f", {store.phone}" if store.phone else ""
    return f"{help_text} Your store: {store.name}{phone_part}."
