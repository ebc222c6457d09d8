"""Twilio's webhooks: inbound texts and delivery receipts."""

from __future__ import annotations

import logging
from collections.abc import Callable

from chalice.app import BadRequestError, Blueprint, ForbiddenError, Response

from chalicelib.adapters.logs import mask_phone
from chalicelib.adapters.webhook import (
    SIGNATURE_HEADER,
    ForgedWebhookError,
    MalformedFormError,
    WebhooksDisabledError,
    decode_form,
    signed_url,
    twiml,
    verify_signature,
)
from chalicelib.bootstrap import deps
from chalicelib.domain.errors import ConcurrentUpdateError, InvalidPhoneError
from chalicelib.entrypoints.forms import BadFormError, InboundForm, StatusForm, parse
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.status import record_status

bp = Blueprint(__name__)
log = logging.getLogger("rapport.webhooks")
FORM = ["application/x-www-form-urlencoded"]


def _verified_form() -> dict[str, str]:
    """The request's form, once Twilio's signature over it checks out."""
    request = bp.current_request
    settings = deps().settings
    form = decode_form(request.raw_body)
    url = signed_url(settings.public_base_url, request.path, request.query_params)
    verify_signature(settings.twilio_auth_token, url, form, request.headers.get(SIGNATURE_HEADER))
    return form


def _answer(handle: Callable[[dict[str, str]], Response]) -> Response:
    """Map what can go wrong with a webhook onto its status code."""
    try:
        return handle(_verified_form())
    except WebhooksDisabledError as error:
        log.error("webhook refused: %s", error)
        return Response(body={"Code": "ServiceUnavailable", "Message": str(error)}, status_code=503)
    except ForgedWebhookError as error:
        log.warning("forged webhook rejected: %s", error)
        raise ForbiddenError(str(error)) from None
    except (MalformedFormError, BadFormError, InvalidPhoneError) as error:
        raise BadRequestError(str(error)) from None
    except ConcurrentUpdateError as error:
        log.warning("webhook gave up on a busy record: %s", error)
        return Response(body={"Code": "Busy", "Message": "record busy, retry"}, status_code=503)


@bp.route("/twilio/inbound", methods=["POST"], content_types=FORM)
def inbound() -> Response:
    def handle(form: dict[str, str]) -> Response:
        d = deps()
        sms = parse(InboundForm, form).to_sms(d.clock.now())
        reply = handle_inbound(sms, d.store, d.settings.replies)
        log.info("inbound %s from %s replied=%s", sms.sid, mask_phone(sms.phone), bool(reply))
        return Response(body=twiml(reply), status_code=200, headers={"Content-Type": "text/xml"})

    return _answer(handle)


@bp.route("/twilio/status", methods=["POST"], content_types=FORM)
def status() -> Response:
    def handle(form: dict[str, str]) -> Response:
        d = deps()
        receipt = parse(StatusForm, form).to_receipt(d.clock.now())
        changed = record_status(receipt, d.store)
        log.info("status %s %s to %s changed=%s", receipt.sid, receipt.status.value, mask_phone(receipt.phone), changed)
        return Response(body="", status_code=204)

    return _answer(handle)
