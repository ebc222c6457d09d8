"""Twilio's webhooks: inbound texts and delivery receipts."""

from __future__ import annotations

from collections.abc import Callable

from chalice.app import Blueprint, Response

from chalicelib.adapters.observability import count, logger
from chalicelib.adapters.webhook import (
    SIGNATURE_HEADER,
    ForgedWebhookError,
    MalformedFormError,
    WebhooksDisabledError,
    twiml,
    verified_form,
)
from chalicelib.bootstrap import deps, remembered, twilio_auth_token
from chalicelib.domain.errors import ConcurrentUpdateError, InvalidPhoneError
from chalicelib.entrypoints.forms import BadFormError, InboundForm, StatusForm, parse
from chalicelib.entrypoints.http import error_answer
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.status import record_status

bp = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]
TWIML_TYPE = "text/xml; charset=utf-8"  # a reply naming a price in £ or € reads as written


def _verified_form() -> dict[str, str]:
    """The request's form, once Twilio's signature over it checks out: over the
    URL Twilio called (the query as the operator wrote it) and every posted value."""
    request = bp.current_request
    return verified_form(
        twilio_auth_token,
        deps().settings.public_base_url,
        request.path,
        request.query_params,
        request.raw_body,
        request.headers.get(SIGNATURE_HEADER),
    )


def _answer(handle: Callable[[dict[str, str]], Response]) -> Response:
    """Run a webhook; what went wrong is logged here and answered as the one table says
    (entrypoints/http.py): 403 forged, 400 malformed, 503 busy or no token (Twilio retries 5xx)."""
    try:
        return handle(_verified_form())
    except ForgedWebhookError as error:
        count("ForgedSignatures")
        logger.warning("forged webhook rejected", extra={"reason": str(error)})
        return error_answer(error)
    except WebhooksDisabledError as error:
        logger.error("webhook refused", extra={"reason": str(error)})
        return error_answer(error)
    except (MalformedFormError, BadFormError, InvalidPhoneError) as error:
        logger.info("webhook rejected as malformed", extra={"reason": str(error)})
        return error_answer(error)
    except ConcurrentUpdateError as error:
        logger.warning("webhook gave up on a busy record", extra={"reason": str(error)})
        return error_answer(error)


@bp.route("/twilio/inbound", methods=["POST"], content_types=FORM)
def inbound() -> Response:
    def handle(form: dict[str, str]) -> Response:
        d = deps()
        sms = parse(InboundForm, form).to_sms(d.clock.now())
        orders = d.events_queue if d.settings.order_webhook_url else None  # where a YES's order is placed from
        message = handle_inbound(sms, d.store, d.settings.replies, d.runs, d.prompts, d.directory, orders, remembered)
        count("InboundMessages")
        count("Keywords", kind=str(message.kind))
        logger.info(
            "inbound",
            extra={"phone": sms.phone, "kind": message.kind, "replied": bool(message.reply)},
        )
        return Response(body=twiml(message.reply), status_code=200, headers={"Content-Type": TWIML_TYPE})

    return _answer(handle)


@bp.route("/twilio/status", methods=["POST"], content_types=FORM)
def status() -> Response:
    def handle(form: dict[str, str]) -> Response:
        d = deps()
        receipt = parse(StatusForm, form).to_receipt(d.clock.now())
        changed = record_status(receipt, d.store, d.runs)
        count("DeliveryReceipts", status=receipt.status.value)
        if receipt.error_code is not None:
            count("DeliveryErrors", code=str(receipt.error_code))
        logger.info(
            "status",
            extra={"phone": receipt.phone, "status": receipt.status, "changed": changed},
        )
        return Response(body="", status_code=204)

    return _answer(handle)
