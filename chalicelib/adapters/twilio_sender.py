"""Sender on the real `twilio` client (pointed at the local simulator when
TWILIO_API_BASE_URL is set). Twilio's answers become SendResults:
429/5xx and refused connections are retried later, a read timeout is an
unknown outcome (the text may have gone), other 4xx are refusals."""

from __future__ import annotations

from datetime import datetime

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from chalicelib.domain.errors import LookupUnavailableError
from chalicelib.services.ports import SendOutcome, SendResult

TIMEOUT_S = 10


def _origin(sender: str) -> dict[str, str]:
    """Twilio's parameter for a sender: a Messaging Service SID, or a number."""
    return {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}


class TwilioSender:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        status_callback: str,
        messaging_service_sid: str = "",
        from_number: str = "",
        api_base_url: str = "",
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        if not (messaging_service_sid or from_number):
            raise ValueError("set TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER to send")
        self._client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_s))
        if api_base_url:
            self._client.api.base_url = api_base_url.rstrip("/")
        self._messages = self._client.messages  # loads the client's lazy modules now, not on a paced first send
        self._callback = status_callback
        self._origin = _origin(messaging_service_sid or from_number)

    def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
        sender = _origin(origin) if origin else self._origin
        try:
            message = self._messages.create(
                to=to, body=body, status_callback=self._callback, validity_period=valid_for_s, **sender
            )
        except TwilioRestException as error:
            if error.status == 429 or error.status >= 500:
                return SendResult(SendOutcome.RETRY, error_code=error.code, detail=f"HTTP {error.status}")
            return SendResult(SendOutcome.REJECTED, error_code=error.code, detail=str(error.msg))
        except requests.ConnectTimeout:
            return SendResult(SendOutcome.RETRY, detail="could not connect in time")
        except requests.ReadTimeout:
            return SendResult(SendOutcome.UNKNOWN, detail="no answer in time: it may have gone")
        except requests.ConnectionError as error:
            if isinstance(getattr(error.args[0] if error.args else None, "reason", None), NewConnectionError):
                return SendResult(SendOutcome.RETRY, detail="connection refused")
            return SendResult(SendOutcome.UNKNOWN, detail="connection lost mid-request: it may have gone")
        except requests.RequestException as error:  # sent, but the answer could not be read
            return SendResult(SendOutcome.UNKNOWN, detail=f"unreadable answer: {type(error).__name__}")
        return SendResult(SendOutcome.ACCEPTED, sid=message.sid, from_number=message.from_)

    def find_sent(self, to: str, body: str, since: datetime) -> str | None:
        """Twilio's own record: its messages to `to` created since then, with this body
        (DateSent filters by day; the time is checked here)."""
        try:
            found = self._messages.list(to=to, date_sent_after=since, limit=50)
        except (TwilioRestException, requests.RequestException) as error:
            raise LookupUnavailableError(f"Twilio's message list: {error}") from None
        for message in found:
            created = message.date_created
            if message.body == body and (created is None or created >= since.replace(microsecond=0)):
                return str(message.sid)
        return None
