"""The operator API (JSON, bearer token checked by middleware): campaigns. Contacts: contacts.py."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import unquote

from chalice.app import BadRequestError, Blueprint, NotFoundError, Response
from pydantic import BaseModel, Field, field_validator
from typing_extensions import TypedDict  # pydantic reads these on Python 3.11

from chalicelib.bootstrap import deps
from chalicelib.domain import links, phone, report
from chalicelib.domain.campaign import Campaign, CampaignSpec
from chalicelib.domain.errors import InvalidPhoneError
from chalicelib.domain.segments import Encoding, segments
from chalicelib.domain.template import Template
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.auth import allow, caller
from chalicelib.entrypoints.http import answer, body_of
from chalicelib.services import campaigns as use_cases
from chalicelib.services import stores
from chalicelib.services.keys import Role

bp = Blueprint(__name__)
ModelT = TypeVar("ModelT", bound=BaseModel)
AGENT, OPERATOR = Role.AGENT, Role.OPERATOR


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
    if unusable := stores.not_live(spec.audience.stores, deps().stores):
        raise BadRequestError(f"audience.stores: {unusable}")
    return spec


@allow(OPERATOR)
@bp.route("/api/campaigns", methods=["POST"])
@openapi.documented(body=CampaignSpec, returns=openapi.CampaignView, status=201)
def create_campaign() -> Response:
    spec = _campaign_spec()
    d = deps()
    return answer(lambda: _view(use_cases.create_campaign(spec, d.campaigns, d.clock, caller().name)), status=201)


class RenderIn(BaseModel):
    message: str = Field(min_length=1, max_length=1600, description="a template: Hi {first_name|there}")
    phone: str | None = Field(
        default=None, min_length=1, max_length=40, description="the sample contact; none: every fallback"
    )

    @field_validator("message")
    @classmethod
    def _safe_template(cls, text: str) -> str:
        Template(text)  # the same check as a campaign's message: a TemplateError is a ValueError
        return text


class Rendered(TypedDict):
    text: str
    segments: int
    encoding: Encoding
    units: int
    limit: int
    because: list[str]
    fields: list[str]
    missing_fields: list[str]
    sample: str | None


@allow(OPERATOR)
@bp.route("/api/campaigns/render", methods=["POST"])
@openapi.documented(body=RenderIn, returns=Rendered)
def render_message() -> Response:
    """A campaign's text as one contact would get it, with its SMS segments.

    The server's own template code fills the fields from the sample contact's
    attributes (`phone`), or uses every fallback when no phone is given. Nothing
    is stored or sent.
    """
    body = body_of(bp, RenderIn)
    template = Template(body.message)
    values: dict[str, str] = {}
    sample = None
    if body.phone is not None:
        try:
            sample = phone.normalise(body.phone)
        except InvalidPhoneError as error:
            raise BadRequestError(f"phone: {error}") from None  # said next to the console's sample field
        contact = deps().store.get_contact(sample)
        if contact is None:
            raise NotFoundError(f"no contact {sample}")
        values = {name: attribute.value for name, attribute in contact.attributes.items()}
    text = links.stand_in(template.render(values), deps().settings.public_base_url)  # as long as it is sent
    counted = segments(text)
    rendered: Rendered = {
        "text": text,
        "segments": counted.count,
        "encoding": counted.encoding,
        "units": counted.units,
        "limit": counted.limit,
        "because": list(counted.because),
        "fields": sorted(template.fields),
        "missing_fields": template.missing(values),
        "sample": sample,
    }
    return answer(lambda: rendered)


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
        result = use_cases.preview(
            campaign_id, d.campaigns, d.store, d.clock, d.policy, d.settings.brand_time_zone, d.directory
        )
        return {
            "campaign_id": result.campaign_id,
            "evaluated_at": result.evaluated_at.isoformat(),
            "audience": result.audience,
            "decisions": dict(sorted(result.decisions.items())),
            "left_out": dict(sorted(result.left_out.items())),
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


@allow(OPERATOR)
@bp.route("/api/campaigns/{campaign_id}/runs/{run_id}/report", methods=["GET"])
@openapi.documented(returns=openapi.RunReport)
def run_report(campaign_id: str, run_id: str) -> Response:
    """What a run earned: planned, sent, delivered, failed, replied within 24 h,
    opted out within 72 h, clicked, ordered within ATTRIBUTION_DAYS and revenue,
    segments and their cost; per store and per variant, and against the control
    group (JSON, or CSV with Accept: text/csv)"""
    d, wanted = deps(), unquote(run_id)  # "+0000" in a run's id arrives encoded
    s = d.settings

    def reported() -> Response | dict[str, Any]:
        use_cases.get_campaign(campaign_id, d.campaigns)  # 404 for an unknown campaign
        run = d.runs.get_run(wanted) if wanted.split("@", 1)[0] == campaign_id else None
        if run is None:
            raise NotFoundError(f"no run {wanted!r} of campaign {campaign_id!r}")
        found = report.run_report(run, d.runs.cells(run.id), s.prices, s.price_currency)
        if "text/csv" in (bp.current_request.headers.get("accept") or ""):
            headers: dict[str, str | list[str]] = {"Content-Type": "text/csv; charset=utf-8"}
            return Response(body=report.as_csv(found), status_code=200, headers=headers)
        return found

    return answer(reported)
