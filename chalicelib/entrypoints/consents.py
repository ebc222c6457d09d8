"""Consent a brand can prove: the words its forms show, by version, and a
form's sign-up, confirmed by the customer's YES (services/consents.py)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from chalice.app import BadRequestError, Blueprint, Response
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, field_validator
from typing_extensions import TypedDict  # pydantic reads these on Python 3.11

from chalicelib import bootstrap
from chalicelib.bootstrap import deps
from chalicelib.domain import phone
from chalicelib.domain.double_opt_in import TEXT_VERSION, ConsentText, ConsentTextSpec
from chalicelib.domain.errors import InvalidPhoneError
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.auth import allow, caller
from chalicelib.entrypoints.http import answer, body_of, created_or_replaced, idempotency_key
from chalicelib.services import consents
from chalicelib.services.conversations import Outbound
from chalicelib.services.keys import Role

bp = Blueprint(__name__)
Version = Annotated[str, StringConstraints(pattern=TEXT_VERSION)]


class SignUpIn(BaseModel):
    phone: str = Field(max_length=40, description="the number given on the form")
    source: str = Field(min_length=1, max_length=120, description="which form: 'website footer', 'checkout'")
    consent_text_version: Version = Field(description="the words the form showed (PUT /api/consent-texts first)")
    ip: str = Field(description="the browser's IP address")
    user_agent: str = Field(min_length=1, max_length=512)
    at: AwareDatetime = Field(description="when the form was sent (ISO 8601 with an offset), no later than now")

    @field_validator("ip")
    @classmethod
    def _an_address(cls, ip: str) -> str:
        return str(ipaddress.ip_address(ip))  # ValueError: pydantic reports it


class ConsentTextList(TypedDict):
    consent_texts: list[ConsentText]


@allow(Role.INTEGRATION)
@bp.route("/api/consents", methods=["POST"])
@openapi.documented(body=SignUpIn, returns=openapi.Message, status=201, idempotent=True)
def sign_up() -> Response:
    """A web form's sign-up: the join question is texted, and only the customer's
    YES opts them in, with the form's proof (once per Idempotency-Key, or per
    phone, form, version and time)"""
    body, d = body_of(bp, SignUpIn), deps()
    try:
        number = phone.normalise(body.phone)
    except InvalidPhoneError as error:
        raise BadRequestError(f"phone: {error}") from None
    form = consents.SignUp(number, body.source, body.consent_text_version, body.ip, body.user_agent, body.at)
    outbound = Outbound(d.store, d.runs, bootstrap.sender(), d.clock, d.policy, d.directory)
    zones = phone.time_zone_candidates(number)
    key = idempotency_key(bp)
    return answer(
        lambda: consents.sign_up(
            form, d.consent_texts, d.store, d.settings.brand_name, outbound, key, zones, bootstrap.remembered
        ),
        status=201,
    )


@allow(Role.OPERATOR)
@bp.route("/api/consent-texts/{text_version}", methods=["PUT"])
@openapi.documented(body=ConsentTextSpec, returns=ConsentText, also={201: ConsentText})
def put_consent_text(text_version: str) -> Response:
    """Keep the words a form shows under this version (201 new, 200 the same words
    again); a version's words never change: other words are 409"""
    if not re.fullmatch(TEXT_VERSION, text_version):
        raise BadRequestError("text_version: 1 to 64 letters, digits, '.', '_' or '-'")
    spec, d, who = body_of(bp, ConsentTextSpec), deps(), caller().name
    return answer(
        lambda: created_or_replaced(*consents.put_text(text_version, spec.text, d.consent_texts, d.clock, who))
    )


@allow(Role.OPERATOR)
@bp.route("/api/consent-texts", methods=["GET"])
@openapi.documented(returns=ConsentTextList)
def list_consent_texts() -> Response:
    """Every kept version, and the join question that JOIN texts are answered with"""
    d = deps()
    found = consents.texts(d.consent_texts, d.settings.brand_name, d.clock.now())
    return answer(lambda: {"consent_texts": [text.model_dump(mode="json") for text in found]})
