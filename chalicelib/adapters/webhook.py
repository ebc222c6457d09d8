"""Twilio webhooks at the edge: form decoding, signature check, TwiML."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs, urlencode
from xml.sax.saxutils import escape

from chalicelib.domain.errors import RapportError

SIGNATURE_HEADER = "X-Twilio-Signature"


class ForgedWebhookError(RapportError):
    """The request was not signed by Twilio with our auth token."""


class WebhooksDisabledError(RapportError):
    """No auth token is configured, so no webhook can be trusted."""


class MalformedFormError(RapportError, ValueError):
    """The body is not a readable form."""


def decode_form(raw_body: bytes | str) -> dict[str, str]:
    """Twilio posts each field once; a repeated field keeps its last value."""
    try:
        text = raw_body if isinstance(raw_body, str) else raw_body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedFormError(f"body is not a URL-encoded form: {error}") from None
    return {name: values[-1] for name, values in fields.items()}


def signed_url(public_base_url: str, path: str, query: Mapping[str, str] | None) -> str:
    """The URL Twilio signed: the public base (scheme, host, stage prefix),
    which neither API Gateway's nor chalice local's request context knows."""
    url = public_base_url.rstrip("/") + path
    return f"{url}?{urlencode(query)}" if query else url


def verify_signature(auth_token: str, url: str, form: dict[str, str], signature: str | None) -> None:
    if not auth_token:
        raise WebhooksDisabledError("TWILIO_AUTH_TOKEN is not configured; webhooks are refused")
    if not signature:
        raise ForgedWebhookError(f"missing {SIGNATURE_HEADER}")
    from twilio.request_validator import RequestValidator  # only webhook paths pay for the import

    if not RequestValidator(auth_token).validate(url, form, signature):
        raise ForgedWebhookError(f"{SIGNATURE_HEADER} does not match")


def twiml(reply: str) -> str:
    if not reply:
        return '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(reply)}</Message></Response>'
