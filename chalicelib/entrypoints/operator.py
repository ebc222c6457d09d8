"""The operator API (JSON, bearer token checked by middleware): campaigns and contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import available_timezones

from chalice.app import BadRequestError, Blueprint, NotFoundError, Response
from pydantic import BaseModel, Field, StringConstraints, field_validator

from chalicelib.adapters.operator_auth import allow, caller
from chalicelib.bootstrap import deps
from chalicelib.domain import phone
from chalicelib.domain.campaign import Campaign, CampaignSpec
from chalicelib.domain.contact import (
    MAX_ATTRIBUTES,
    MAX_NAME_LENGTH,
    MAX_TAGS,
    MAX_VALUE_LENGTH,
    ConsentEvent,
    ConsentState,
    HomeLocation,
)
from chalicelib.domain.errors import InvalidPhoneError
from chalicelib.domain.policy import normalise_area
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.http import answer, body_of, phone_in_path
from chalicelib.services import campaigns as use_cases
from chalicelib.services.keys import Role

bp = Blueprint(__name__)
ModelT = TypeVar("ModelT", bound=BaseModel)
AGENT, OPERATOR = Role.AGENT, Role.OPERATOR
MAX_IMPORT = 500


def _view(campaign: Campaign) -> dict[str, Any]:
    next_run = campaign.next_run(deps().clock.now(), deps().settings.brand_time_zone)
    return {
        **campaign.model_dump(mode="json"),
        "next_run": next_run.isoformat() if next_run else None,
        "deadline": campaign.deadline_for(next_run).isoformat() if next_run else None,
    }


def _campaign_spec() -> CampaignSpec:
    spec = body_of(bp, CampaignSpec)
    if spec.prompt_id is not None and deps().prompts.get(spec.prompt_id) is None:
        raise BadRequestError(f"prompt_id: no prompt {spec.prompt_id!r} (GET /api/prompts lists them)")
    return spec


@allow(OPERATOR)
@bp.route("/api/campaigns", methods=["POST"])
@openapi.documented(body=CampaignSpec, returns=openapi.CampaignView, status=201)
def create_campaign() -> Response:
    spec = _campaign_spec()
    d = deps()
    return answer(lambda: _view(use_cases.create_campaign(spec, d.campaigns, d.clock, caller().name)), status=201)


@allow(OPERATOR)
@bp.route("/api/campaigns", methods=["GET"])
@openapi.documented(returns=openapi.CampaignList)
def list_campaigns() -> Response:
    return answer(lambda: {"campaigns": [_view(c) for c in deps().campaigns.list()]})


@allow(OPERATOR)
@bp.route("/api/campaigns/{campaign_id}", methods=["GET"])
@openapi.documented(returns=openapi.CampaignView)
def get_campaign(campaign_id: str) -> Response:
    return answer(lambda: _view(use_cases.get_campaign(campaign_id, deps().campaigns)))


@allow(OPERATOR)
@bp.route("/api/campaigns/{campaign_id}", methods=["PUT"])
@openapi.documented(body=CampaignSpec, returns=openapi.CampaignView)
def update_campaign(campaign_id: str) -> Response:
    spec = _campaign_spec()
    d = deps()
    return answer(lambda: _view(use_cases.update_campaign(campaign_id, spec, d.campaigns, d.clock, caller().name)))


@allow(OPERATOR)
@bp.route("/api/campaigns/{campaign_id}/pause", methods=["POST"])
@openapi.documented(returns=openapi.CampaignView)
def pause_campaign(campaign_id: str) -> Response:
    d = deps()
    return answer(lambda: _view(use_cases.pause_campaign(campaign_id, None, d.campaigns, d.clock, caller().name)))


@allow(OPERATOR)
@bp.route("/api/campaigns/{campaign_id}/resume", methods=["POST"])
@openapi.documented(returns=openapi.CampaignView)
def resume_campaign(campaign_id: str) -> Response:
    d = deps()
    return answer(lambda: _view(use_cases.resume_campaign(campaign_id, d.campaigns, d.runs, d.clock, caller().name)))


@allow(OPERATOR)
@bp.route("/api/campaigns/{campaign_id}/preview", methods=["POST"])
@openapi.documented(returns=openapi.Preview)
def preview_campaign(campaign_id: str) -> Response:
    d = deps()

    def run() -> dict[str, Any]:
        result = use_cases.preview(campaign_id, d.campaigns, d.store, d.clock, d.policy, d.settings.brand_time_zone)
        return {
            "campaign_id": result.campaign_id,
            "evaluated_at": result.evaluated_at.isoformat(),
            "audience": result.audience,
            "decisions": dict(sorted(result.decisions.items())),
            "samples": result.samples,
        }

    return answer(run)


@allow(OPERATOR)
@bp.route("/api/campaigns/{campaign_id}/runs", methods=["GET"])
@openapi.documented(returns=openapi.RunList)
def list_runs(campaign_id: str) -> Response:
    d = deps()

    def runs() -> dict[str, Any]:
        use_cases.get_campaign(campaign_id, d.campaigns)  # 404 for an unknown campaign
        return {"runs": [run.model_dump(mode="json") for run in d.runs.list_runs(campaign_id)]}

    return answer(runs)


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


Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[\w.\- ]+$")]
Value = Annotated[str, StringConstraints(max_length=MAX_VALUE_LENGTH)]


class ContactIn(BaseModel):
    phone: str
    attributes: dict[Name, Value] = Field(default_factory=dict, max_length=MAX_ATTRIBUTES)
    tags: list[Name] = Field(default_factory=list, max_length=MAX_TAGS)
    home: HomeIn | None = None
    consent: ConsentIn | None = None
    time_zone: str | None = Field(default=None, description="a confirmed IANA zone: Europe/London")

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
        )


class ContactsIn(BaseModel):
    contacts: list[ContactIn] = Field(min_length=1, max_length=MAX_IMPORT)


@allow(OPERATOR)
@bp.route("/api/contacts", methods=["POST"])
@openapi.documented(body=ContactsIn, returns=openapi.Imported)
def import_contacts() -> Response:
    body = body_of(bp, ContactsIn)
    d = deps()
    records = []
    for index, item in enumerate(body.contacts):  # all validated before any is stored
        try:
            records.append(item.to_record(phone.normalise(item.phone)))
        except InvalidPhoneError as error:
            raise BadRequestError(f"contacts.{index}.phone: {error}") from None

    def run() -> dict[str, Any]:
        return {
            "imported": use_cases.import_contacts(records, d.store, d.clock, phone.time_zone_candidates, caller().name)
        }

    return answer(run)


@allow(OPERATOR, AGENT)
@bp.route("/api/contacts/{number}", methods=["GET"])
@openapi.documented(returns=openapi.ContactView)
def get_contact(number: str) -> Response:
    e164 = phone_in_path(number)
    d = deps()
    contact = d.store.get_contact(e164)
    if contact is None:
        raise NotFoundError(f"no contact {e164}")
    decisions = [record.model_dump(mode="json") for record in d.runs.decisions_for(e164, limit=5)]
    trail = d.store.trail(e164)
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
    records = deps().runs.decisions_for(e164, limit=50)
    return answer(lambda: {"phone": e164, "decisions": [record.model_dump(mode="json") for record in records]})
