"""The brand's ordering system over HTTP(S): a reorder POSTed as JSON to
ORDER_WEBHOOK_URL, signed as Stripe signs its webhooks, with the request's
Idempotency-Key (the contract a brand implements: docs/stores-and-orders.md)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable

from chalicelib.adapters.secrets import SecretUnavailableError
from chalicelib.domain.reorder import ReorderRequest
from chalicelib.services.ports import Clock, OrderingRefusedError, OrderingUnavailableError

SIGNATURE_HEADER = "X-Rapport-Signature"
TIMEOUT_S = 10.0  # per call; a slow answer is asked again later, under the same key
MAX_ANSWER_BYTES = 65_536
MAX_MESSAGE = 1600  # one Twilio message
RETRY_STATUSES = frozenset({408, 425, 429})  # and every 5xx: the system may answer later


class _Refuse(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: object) -> None:
        return None  # the 3xx is the answer


_NO_REDIRECTS = urllib.request.build_opener(_Refuse)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class OrderWebhook:
    def __init__(self, url: str, secret: Callable[[], str], clock: Clock, timeout_s: float = TIMEOUT_S) -> None:
        self._url = url
        self._secret = secret  # read per call: SSM's value is cached by its store, and a rotation is picked up
        self._clock = clock
        self._timeout_s = timeout_s

    def place(self, request: ReorderRequest) -> str:
        if not self._url:  # switched off while a request was on its way: a person takes over
            raise OrderingRefusedError("ORDER_WEBHOOK_URL is not set")
        body = json.dumps(request.model_dump(mode="json"), separators=(",", ":")).encode()
        try:
            signed = signature(self._secret(), int(self._clock.now().timestamp()), body)
        except SecretUnavailableError as error:
            raise OrderingUnavailableError(f"the signing secret cannot be read now: {error}") from None
        call = urllib.request.Request(  # noqa: S310 (the operator's configured http(s) URL, checked at start)
            self._url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": request.idempotency_key,
                SIGNATURE_HEADER: signed,
                "User-Agent": "Rapport",
            },
        )
        try:
            with _NO_REDIRECTS.open(call, timeout=self._timeout_s) as answer:
                status, payload = answer.status, answer.read(MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as error:  # a 3xx too: a signed call is never sent on elsewhere
            status, payload = error.code, error.read(MAX_ANSWER_BYTES)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:  # refused, reset, timed out
            raise OrderingUnavailableError(f"no answer: {error!r}") from None
        if status in RETRY_STATUSES or status >= 500:
            raise OrderingUnavailableError(f"HTTP {status}")
        if not 200 <= status < 300:
            raise OrderingRefusedError(f"HTTP {status}: {payload[:200].decode(errors='replace')}")
        return _message(payload)


def _message(payload: bytes) -> str:
    """The answer's `message`, for the customer."""
    try:
        message = json.loads(payload).get("message")
    except (ValueError, AttributeError):
        raise OrderingRefusedError("answered 2xx without a JSON object") from None
    if not isinstance(message, str) or not message.strip():
        raise OrderingRefusedError("answered 2xx without a message for the customer")
    return message.strip()[:MAX_MESSAGE]
