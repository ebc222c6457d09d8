"""The contacts API: import (JSON or a CSV file), find by phone, tag or attribute,
export a tag's contacts as CSV, and one contact's profile and decisions.

Every import is validated whole before anything is stored: one bad row or record
refuses it with a 400 naming each (a CSV's by its line number), nothing imported.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import available_timezones

from chalice.app import BadRequestError, Blueprint, NotFoundError, Response
from pydantic import BaseModel, Field, StringConstraints, TypeAdapter, ValidationError, field_validator
from typing_extensions import TypedDict  # pydantic reads these on Python 3.11

from chalicelib.bootstrap import deps, remembered
from chalicelib.domain import contact_csv, phone
from chalicelib.domain.contact import (
    MAX_ATTRIBUTES,
    MAX_NAME_LENGTH,
    MAX_TAGS,
    MAX_VALUE_LENGTH,
    ConsentEvent,
    ConsentState,
    Contact,
    HomeLocation,
)
from chalicelib.domain.errors import InvalidPhoneError
from chalicelib.domain.ids import STORE_ID
from chalicelib.domain.policy import normalise_area
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.auth import allow, caller
from chalicelib.entrypoints.http import ImportRefusedError, answer, body_of, error_answer, phone_in_path
from chalicelib.services import campaigns as use_cases
from chalicelib.services import contacts as finding
from chalicelib.services.keys import Role

bp = Blueprint(__name__)
AGENT, OPERATOR = Role.AGENT, Role.OPERATOR
MAX_IMPORT = 500  # contacts (or CSV rows) one import takes
MAX_REJECTS_SHOWN = 100
CSV = "text/csv"
JSON = "application/json"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class HomeIn(BaseModel):
    area: str = Field(min_length=2, max_length=12, description="postcode or ZIP")
    region: str | None = Field(default=None, max_length=8, description="e.g. a US state code: FL")
    confirmed_at: datetime | None = None

    @field_validator("region")
    @classmethod
    def _upper(cls, region: str | None) -> str | None:
        return region.strip().upper() if region else None


class ConsentIn(BaseModel):
    state: ConsentState
    source: str = Field(min_length=1, max_length=120, description="where it was given: web form, till, ...")
    at: datetime


NAME_RULE = "letters, digits, spaces, _ . and -"
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[\w.\- ]+$")]
Value = Annotated[str, StringConstraints(max_length=MAX_VALUE_LENGTH)]
_name = TypeAdapter(Name)


class ContactIn(BaseModel):
    phone: str
    attributes: dict[Name, Value] = Field(default_factory=dict, max_length=MAX_ATTRIBUTES)
    tags: list[Name] = Field(default_factory=list, max_length=MAX_TAGS)
    home: HomeIn | None = None
    consent: ConsentIn | None = None
    time_zone: str | None = Field(default=None, description="a confirmed IANA zone: Europe/London")
    store_id: str | None = Field(
        default=None, pattern=STORE_ID.pattern, description="the store its texts go from (GET /api/stores)"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is not None and name not in available_timezones():
            raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/London")
        return name

    def to_record(self, e164: str) -> use_cases.ContactRecord:
        home, consent = self.home, self.consent
        return use_cases.ContactRecord(
            phone=e164,
            attributes=self.attributes,
            tags=tuple(self.tags),
            home=None
            if home is None
            else HomeLocation(area=normalise_area(home.area), region=home.region, confirmed_at=home.confirmed_at),
            consent=None
            if consent is None
            else ConsentEvent(state=consent.state, source=consent.source, at=consent.at),
            time_zone=self.time_zone,
            store_id=self.store_id,
        )


class ContactsIn(BaseModel):
    contacts: list[ContactIn] = Field(min_length=1, max_length=MAX_IMPORT)


class Reject(TypedDict):
    line: int  # the CSV line (1: the header; 0: the file as a whole)
    reason: str


class ContactPage(TypedDict):
    contacts: list[Contact]
    next: str | None  # the cursor for the next page; null: there is no more


def _refused(rejects: list[tuple[int, str]]) -> ImportRefusedError:
    """400: every refused line and why, nothing imported."""
    shown = sorted(rejects)[:MAX_REJECTS_SHOWN]
    more = len(rejects) - len(shown)
    listed = "; ".join(f"line {line}: {reason}" if line else reason for line, reason in shown)
    message = f"nothing imported, {len(rejects)} line(s) refused: {listed}" + (f"; and {more} more" if more else "")
    return ImportRefusedError(message, {"rejects": [{"line": line, "reason": reason} for line, reason in shown]})


def _row_reasons(error: ValidationError) -> str:
    return "; ".join(f"{contact_csv.column_of(e['loc'])}: {e['msg']}" for e in error.errors())


def _csv_records() -> tuple[list[use_cases.ContactRecord], list[int]]:
    """The CSV body's records and their lines; ImportRefusedError (400) naming every bad line."""
    raw = bp.current_request.raw_body or b""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise _refused([(0, "the file is not UTF-8 text: save it as CSV UTF-8")]) from None
    read = contact_csv.read_csv(text, MAX_IMPORT)
    rejects = list(read.rejects)
    for name in read.attributes:
        try:
            _name.validate_python(name)
        except ValidationError:
            rejects.append((1, f"column {name!r}: an attribute's name is 1 to {MAX_NAME_LENGTH} {NAME_RULE}"))
    if len(read.attributes) > MAX_ATTRIBUTES:
        rejects.append((1, f"{len(read.attributes)} attribute columns; at most {MAX_ATTRIBUTES}"))
    if rejects and any(line <= 1 for line, _ in rejects):
        raise _refused(rejects)  # the header or the file itself: its rows cannot be read
    records, lines = [], []
    for row in read.rows:
        try:
            item = ContactIn.model_validate(row.fields)
            records.append(item.to_record(phone.normalise(item.phone)))
            lines.append(row.line)
        except ValidationError as error:
            rejects.append((row.line, _row_reasons(error)))
        except InvalidPhoneError as error:
            rejects.append((row.line, f"phone: {error}"))
    if rejects:
        raise _refused(rejects)
    return records, lines


def _json_records() -> list[use_cases.ContactRecord]:
    body = body_of(bp, ContactsIn)
    records = []
    for index, item in enumerate(body.contacts):  # all validated before any is stored
        try:
            records.append(item.to_record(phone.normalise(item.phone)))
        except InvalidPhoneError as error:
            raise BadRequestError(f"contacts.{index}.phone: {error}") from None
    return records


@allow(OPERATOR)
@bp.route("/api/contacts", methods=["POST"], content_types=[JSON, CSV])
@openapi.documented(body=ContactsIn, text_body=CSV, returns=openapi.Imported)
def import_contacts() -> Response:
    """Create or update contacts: JSON, or a CSV file (Content-Type: text/csv)

    All are validated before any is stored: a bad record or row refuses the whole
    import with 400 (a CSV's rejects by line number, in `rejects`), nothing imported."""
    request = bp.current_request
    d = deps()

    def run() -> dict[str, Any]:
        lines: list[int] = []
        if (request.headers.get("content-type") or JSON).lower().startswith(CSV):
            records, lines = _csv_records()
        else:
            records = _json_records()
        zones = phone.time_zone_candidates
        try:
            imported = use_cases.import_contacts(records, d.store, d.stores, d.clock, zones, caller().name, remembered)
            return {"imported": imported}
        except use_cases.RecordsRefusedError as error:
            if not lines:  # JSON: each record by its place in `contacts`
                listed = "; ".join(f"contacts.{index}: {reason}" for index, reason in error.refused)
                raise BadRequestError(f"nothing imported: {listed}") from None
            raise _refused([(lines[index], reason) for index, reason in error.refused]) from None

    return answer(run)


PHONE = openapi.TextQuery("phone", "an exact phone number, E.164 (+447700900123)", max_length=40)
TAG = openapi.TextQuery("tag", "contacts with this tag", max_length=MAX_NAME_LENGTH)
ATTRIBUTE = openapi.TextQuery("attribute", "contacts with this attribute (a bounded scan)", max_length=MAX_NAME_LENGTH)
VALUE = openapi.TextQuery("value", "with `attribute`: its value, case aside", max_length=MAX_VALUE_LENGTH)
CURSOR = openapi.TextQuery("cursor", "`next` from the page before", max_length=200)
LIMIT = openapi.IntQuery("limit", 25, 1, 100, "contacts per page, at most")


def _name_query(query: openapi.TextQuery) -> str | None:
    raw = query.read(bp.current_request)
    if raw is None:
        return None
    try:
        return _name.validate_python(raw)
    except ValidationError:
        raise BadRequestError(f"{query.name}: 1 to {MAX_NAME_LENGTH} {NAME_RULE}") from None


def _cursor(kind: str) -> str | None:
    raw = CURSOR.read(bp.current_request)
    if raw is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=="))
        after = decoded["after"]
        if decoded["by"] != kind or not isinstance(after, str) or not _E164.fullmatch(after):
            raise ValueError(kind)
    except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error):
        raise BadRequestError("cursor: not one this search gave; start again without it") from None
    return after


def _next(kind: str, after: str | None) -> str | None:
    if after is None:
        return None
    raw = json.dumps({"by": kind, "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@allow(OPERATOR)
@bp.route("/api/contacts", methods=["GET"])
@openapi.documented(returns=ContactPage, query=[PHONE, TAG, ATTRIBUTE, VALUE, CURSOR, LIMIT])
def find_contacts() -> Response:
    """Find contacts by exact phone, by tag, or by attribute (and value); a page at a time

    Give one of `phone`, `tag` or `attribute`; none browses every contact. A phone is
    one read and a tag an index query; an attribute search scans, a bounded number of
    contacts per page, so a page may hold fewer than `limit` (even none) with `next`
    still set. Pass `next` back as `cursor` for the next page."""
    request = bp.current_request
    number, tag, attribute = PHONE.read(request), _name_query(TAG), _name_query(ATTRIBUTE)
    value, limit = VALUE.read(request), LIMIT.read(request)
    given = [name for name, q in (("phone", number), ("tag", tag), ("attribute", attribute)) if q is not None]
    if len(given) > 1:
        raise BadRequestError(f"give one of phone, tag or attribute, not {' and '.join(given)}")
    if value is not None and attribute is None:
        raise BadRequestError("value: give it with attribute=<name>")
    store = deps().store
    if number is not None:
        if CURSOR.read(request) is not None:
            raise BadRequestError("cursor: a phone search has one page")
        e164 = phone_in_path(number)
        page, kind = finding.by_phone(e164, store), "phone"
    elif tag is not None:
        page, kind = finding.by_tag(tag, store, limit, _cursor("tag")), "tag"
    elif attribute is not None:
        page, kind = finding.by_attribute(attribute, value, store, limit, _cursor("attribute")), "attribute"
    else:
        page, kind = finding.browse(store, limit, _cursor("all")), "all"
    contacts = [contact.model_dump(mode="json") for contact in page.contacts]
    return answer(lambda: {"contacts": contacts, "next": _next(kind, page.after)})


EXPORT_TAG = openapi.TextQuery("tag", "the tag whose contacts to export (required)", max_length=MAX_NAME_LENGTH)


@allow(OPERATOR)
@bp.route("/api/contacts/export", methods=["GET"])
@openapi.documented(returns=str, media=CSV, query=[EXPORT_TAG])
def export_contacts() -> Response:
    """A tag's contacts as a CSV file, in the columns an import takes

    A header row, then one contact a line in phone order; at most 5000 contacts
    (more: 413). The file imports back as it is (POST /api/contacts, text/csv)."""
    tag = _name_query(EXPORT_TAG)
    if tag is None:
        raise BadRequestError("tag: give the tag whose contacts to export")
    try:
        contacts = finding.export_tag(tag, deps().store)
    except finding.ExportTooLargeError as error:
        return error_answer(finding.ExportTooLargeError(f"tag {tag!r}: {error}"))
    filename = re.sub(r"[^\w.-]+", "-", tag, flags=re.ASCII).strip("-") or "tag"
    headers: dict[str, str | list[str]] = {
        "Content-Type": f"{CSV}; charset=utf-8",
        "Content-Disposition": f"attachment; filename=\"contacts-{filename}.csv\"; filename*=UTF-8''{quote(tag)}.csv",
        "Cache-Control": "no-store",  # phone numbers: kept out of shared caches
    }
    return Response(body=contact_csv.write_csv(contacts), status_code=200, headers=headers)


@allow(OPERATOR, AGENT)
@bp.route("/api/contacts/{number}", methods=["GET"])
@openapi.documented(returns=openapi.ContactView)
def get_contact(number: str) -> Response:
    e164 = phone_in_path(number)
    d = deps()
    contact = d.store.get_contact(e164)
    if contact is None:
        raise NotFoundError(f"no contact {e164}")
    decisions = [record.model_dump(mode="json") for record in d.runs.holds.decisions_for(e164, limit=5)]
    trail = d.store.timeline.trail(e164)
    view = {
        **contact.model_dump(mode="json"),
        "consent": contact.consent,
        "consent_history": [event.model_dump(mode="json") for event in trail.consents],
        "history": [change.model_dump(mode="json") for change in trail.fields],
    }
    return answer(lambda: {**view, "decisions": decisions})


@allow(OPERATOR, AGENT)
@bp.route("/api/contacts/{number}/decisions", methods=["GET"])
@openapi.documented(returns=openapi.ContactDecisions)
def explain_contact(number: str) -> Response:
    """Why this customer did (not) get each campaign's text: recent decisions, newest first."""
    e164 = phone_in_path(number)
    records = deps().runs.holds.decisions_for(e164, limit=50)
    return answer(lambda: {"phone": e164, "decisions": [record.model_dump(mode="json") for record in records]})


__all__ = ["ContactIn", "ContactsIn", "bp"]
