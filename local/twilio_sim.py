"""A local Twilio: the Messages API, signed webhooks, and handsets to text from.

It speaks Twilio's wire formats so the real `twilio` client and the real
webhook handlers run unchanged against it:

- POST /2010-04-01/Accounts/{AccountSid}/Messages.json  (Basic auth, form body)
  answers 201 with a Message resource, or Twilio's error body
  {code, message, more_info, status}; then fires signed status callbacks
  queued -> sent -> delivered (or the designated failure below).
- GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json
- POST /sim/inbound   JSON {from, to, body, sid?, forged?, advanced_opt_out?,
  webhook_url?, proxy?}: a handset texts the service; the webhook is signed as
  Twilio signs it and the TwiML reply is delivered back to the handset. The
  answer says how many attempts the webhook took.
- POST /sim/status    JSON {sid, to, from, events: [{status, error_code?}],
  webhook_url?, proxy?}: status callbacks in exactly the given order (to replay
  late or duplicates).
- GET  /sim/handsets/{phone}: every message a handset has received.
- GET  /2010-04-01/Accounts/{AccountSid}/Messages.json  the list, newest
  first, with Twilio's filters To, From, DateSent, DateSent< and DateSent>
  (by day, as Twilio filters them; inclusive) and paging (PageSize, Page).
- POST /sim/outage    JSON {seconds}: the Messages API is down for that long:
  every call answers 503 with Twilio's error body (code 20503); 0 ends it.
  The answer (and GET /sim/outage) gives the seconds left and how many calls
  this outage refused.
- POST /sim/slow      JSON {seconds, count?, to?}: the next `count` (1)
  messages accepted (to one of the numbers `to`, if given) are answered
  `seconds` after they were created, as SLOW_NUMBER is: a caller can be
  stopped while Twilio has the text and it has no answer yet.
- GET  /sim/messages[?to=...]: every message the API accepted, oldest first,
  with its creation time to the microsecond (to check pacing).

Every webhook is delivered as Twilio delivers it: signed over the URL without
its #fragment, and retried per the fragment's connection overrides
(`#rc=3&rp=ct,rt,5xx&ct=3000&rt=5000&tt=15000`); without overrides, Twilio's
defaults: one retry, only when the connection cannot be made. `webhook_url`
replaces the configured URL for one request; `proxy` sends it through an HTTP
proxy (a network between Twilio and the service, for fault injection) while
signing the URL as Twilio would.

Designated test numbers (Twilio's magic-number style):
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

import requests
import urllib3.exceptions
from twilio.request_validator import RequestValidator

# Twilio's own default keywords are the ones the service recognises.
from chalicelib.domain.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS
from local.json_http import JsonHandler

# Refused at the API, as Twilio refuses them.
API_ERRORS: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}
# Refused for now, as Twilio does when busy or broken: retry later.
TRANSIENT_ERRORS: dict[str, tuple[int, str, int]] = {
    "+15005550429": (20429, "Too Many Requests", 429),
    "+15005550500": (20500, "Internal Server Error", 500),
}
# Accepted, but the answer comes too late for a client with a short timeout.
SLOW_NUMBER = "+15005550408"
# Accepted, then reported as failed by the status callbacks.
DELIVERY_FAILURES: dict[str, tuple[str, int]] = {
    "+15005550030": ("undelivered", 30003),  # unreachable handset
    "+15005550035": ("undelivered", 30005),  # unknown destination
    "+15005550036": ("undelivered", 30006),  # landline or unreachable carrier
    "+15005550037": ("undelivered", 30007),  # carrier filtered
    "+15005550038": ("failed", 30008),  # unknown error
}
__doc__ += "".join(f"\n  {n}: API error {c}" for n, (c, _) in API_ERRORS.items())
__doc__ += "".join(f"\n  {n}: HTTP {s} (error {c}), every time" for n, (c, _, s) in TRANSIENT_ERRORS.items())
__doc__ += f"\n  {SLOW_NUMBER}: accepted, answered after `slow_answer_s` seconds"
__doc__ += "".join(f"\n  {n}: {s} with {c}" for n, (s, c) in DELIVERY_FAILURES.items())

API_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages(?:/(?P<sid>\w+))?\.json$")
MAX_BODY = 1600


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def twilio_error(code: int, message: str, status: int) -> tuple[int, dict[str, Any]]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def outage_error() -> tuple[int, dict[str, Any]]:
    """What Twilio's API answers while it is down."""
    return twilio_error(20503, "Service Unavailable", 503)


@dataclass
class SlowAnswer:
    """POST /sim/slow: the next `count` messages (to these numbers, if any) are answered late."""

    seconds: float
    count: int
    to: frozenset[str]


def _day(text: str) -> date:
    """A DateSent filter's day: YYYY-MM-DD, or an ISO 8601 time (the twilio client sends those)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date() if "T" in text else date.fromisoformat(text)


def _sent_within(day: date, bounds: dict[str, date]) -> bool:
    return (
        ("" not in bounds or day == bounds[""])
        and ("<" not in bounds or day <= bounds["<"])
        and (">" not in bounds or day >= bounds[">"])
    )


RETRY_POLICIES = frozenset({"4xx", "5xx", "ct", "rt", "all"})


@dataclass(frozen=True)
class ConnectionOverrides:
    """Twilio's webhook connection overrides, read from a URL's #fragment
    (key=value pairs joined by &); what is not given keeps Twilio's default.
    https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides"""

    connect_timeout_ms: int = 5000  # ct: to establish the TCP connection, 100..10000
    read_timeout_ms: int = 15000  # rt: to the first byte of the answer (and between bytes), 100..15000
    total_ms: int = 15000  # tt: for every attempt together, 100..15000
    retries: int = 1  # rc: attempts after the first, 0..5
    retry_on: frozenset[str] = frozenset({"ct"})  # rp: 4xx, 5xx, ct, rt or all, comma-separated

    @classmethod
    def parse(cls, fragment: str) -> ConnectionOverrides:
        """Refuses a value Twilio refuses (error 11243 for a retry policy)."""
        given = dict(pair.partition("=")[::2] for pair in fragment.split("&") if pair)
        limits = {"ct": (100, 10000), "rt": (100, 15000), "tt": (100, 15000), "rc": (0, 5)}
        numbers: dict[str, int] = {}
        for key, (low, high) in limits.items():
            if key in given:
                if not given[key].isdigit() or not low <= int(given[key]) <= high:
                    raise ValueError(f"connection override {key}={given[key]!r} is not in {low}..{high}")
                numbers[key] = int(given[key])
        policies = frozenset(given["rp"].split(",")) if "rp" in given else cls.retry_on
        if not policies or not policies <= RETRY_POLICIES:
            raise ValueError(f"retry policy rp={given.get('rp')!r} is invalid (Twilio error 11243)")
        return cls(
            connect_timeout_ms=numbers.get("ct", cls.connect_timeout_ms),
            read_timeout_ms=numbers.get("rt", cls.read_timeout_ms),
            total_ms=numbers.get("tt", cls.total_ms),
            retries=numbers.get("rc", cls.retries),
            retry_on=RETRY_POLICIES if "all" in policies else policies,
        )

    def retries_after(self, failure: str) -> bool:
        return failure in self.retry_on


def failure_of(outcome: requests.Response | requests.RequestException) -> str | None:
    """What Twilio's retry policy calls a failed attempt: ct (no connection),
    rt (no answer in time), 4xx, 5xx; None for an answer it accepts."""
    if isinstance(outcome, requests.Response):
        return f"{outcome.status_code // 100}xx" if outcome.status_code >= 400 else None
    if isinstance(outcome, requests.ConnectTimeout):
        return "ct"
    if isinstance(outcome, requests.ConnectionError):  # refused, unreachable: no connection was made
        reason = getattr(outcome.args[0], "reason", None) if outcome.args else None
        return "ct" if isinstance(reason, urllib3.exceptions.NewConnectionError) else "rt"
    return "rt"  # read time-out, or the answer broke off


@dataclass
class Delivery:
    """How a webhook went: one outcome per attempt (an HTTP status, ct or rt)."""

    outcomes: list[str]
    response: requests.Response | None
    error: requests.RequestException | None = None

    def answer(self) -> requests.Response:
        """The last answer; the last error when no attempt got one."""
        if self.response is None:
            assert self.error is not None
            raise self.error
        return self.response


@dataclass
class SimMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    validity_period: int | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "queued"
    error_code: int | None = None
    sent: datetime | None = None  # when it left for the carrier (Twilio's date_sent)

    def resource(self) -> dict[str, Any]:
        created = format_datetime(self.created)
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": created,
            "date_updated": created,
            "date_sent": format_datetime(self.sent) if self.sent else None,
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(self.body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{self.sid}/Media.json"},
            "to": self.to,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{self.sid}.json",
        }


class TwilioSimulator:
    """The simulator's state and behaviour; `serve` puts it on HTTP."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        webhook_base_url: str,
        default_sender: str = "+15005550006",
        callback_delay_s: float = 0.05,
        slow_answer_s: float = 2.0,
        inbound_url: str | None = None,
        answer_delay_s: float = 0.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.webhook_base_url = webhook_base_url.rstrip("/")
        # The messaging webhook as configured on the number, connection overrides included.
        self.inbound_url = inbound_url or f"{self.webhook_base_url}/twilio/inbound"
        ConnectionOverrides.parse(self.inbound_url.partition("#")[2])  # refuse a bad one now
        self.default_sender = default_sender
        self.callback_delay_s = callback_delay_s
        self.slow_answer_s = slow_answer_s
        self.answer_delay_s = answer_delay_s  # every create's answer this late, as Twilio's take about 150 ms
        self._validator = RequestValidator(auth_token)
        self._lock = threading.Lock()
        self.messages: dict[str, SimMessage] = {}
        self.handsets: dict[str, list[dict[str, Any]]] = {}
        self.opted_out: set[str] = set()  # Twilio blocks sends to numbers that texted STOP
        self._outage_until = 0.0  # time.monotonic() until which the Messages API answers 503
        self._outage_refused = 0  # calls the current (or last) outage refused
        self._slow: list[SlowAnswer] = []  # answers to hold back (POST /sim/slow)

    # --- the Messages API -------------------------------------------------

    def authorised(self, account_sid: str, authorization: str | None) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return account_sid == self.account_sid and secrets.compare_digest(authorization or "", f"Basic {expected}")

    def create_message(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From"), form.get("MessagingServiceSid")
        if not to:
            return twilio_error(21604, "A 'To' phone number is required.", 400)
        if not body:
            return twilio_error(21602, "Message body is required.", 400)
        if not sender and not service:
            return twilio_error(21603, "A 'From' or 'MessagingServiceSid' parameter is required", 400)
        if service and not service.startswith("MG"):
            return twilio_error(21701, f"The Messaging Service Sid {service} is invalid.", 400)
        if len(body) > MAX_BODY:
            return twilio_error(21617, "The concatenated message body exceeds the 1600 character limit.", 400)
        if not re.fullmatch(r"\+[1-9]\d{6,14}", to):
            return twilio_error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
        if to in API_ERRORS:
            code, message = API_ERRORS[to]
            return twilio_error(code, message, 400)
        if to in self.opted_out:
            return twilio_error(21610, "Attempt to send to unsubscribed recipient", 400)
        if to in TRANSIENT_ERRORS:
            return twilio_error(*TRANSIENT_ERRORS[to])
        validity = form.get("ValidityPeriod")
        if validity is not None and not (validity.isdigit() and 1 <= int(validity) <= 36000):
            return twilio_error(21609, "Invalid ValidityPeriod: must be between 1 and 36000 seconds", 400)
        created = SimMessage(
            sid=new_sid(),
            account_sid=self.account_sid,
            to=to,
            from_=sender or self.default_sender,
            body=body,
            messaging_service_sid=service,
            status_callback=form.get("StatusCallback"),
            validity_period=int(validity) if validity else None,
        )
        with self._lock:
            self.messages[created.sid] = created
        threading.Thread(target=self._progress, args=(created,), daemon=True).start()
        if to == SLOW_NUMBER:
            time.sleep(self.slow_answer_s)  # created and on its way, but the caller has given up
        if (delay := self._slow_answer(to)) is not None:
            time.sleep(delay)
        time.sleep(self.answer_delay_s)
        return 201, created.resource()

    def _progress(self, message: SimMessage) -> None:
        final = DELIVERY_FAILURES.get(message.to, ("delivered", None))
        for status, code in (("queued", None), ("sent", None), final):
            time.sleep(self.callback_delay_s)
            with self._lock:
                message.status, message.error_code = status, code
                if status == "sent":
                    message.sent = datetime.now(UTC)
            if status == "delivered":
                self._deliver(message.to, message.from_, message.body, message.sid)
            if message.status_callback:
                try:
                    self._callback(message.status_callback, message, status, code)
                except requests.RequestException:
                    return  # as Twilio does: a callback that cannot be delivered is dropped

    def _callback(self, url: str, message: SimMessage, status: str, code: int | None, proxy: str | None = None) -> int:
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_,
            "To": message.to,
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        if message.messaging_service_sid:
            form["MessagingServiceSid"] = message.messaging_service_sid
        if code is not None:
            form["ErrorCode"] = str(code)
        return self.post_signed(url, form, proxy=proxy).status_code

    def list_messages(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Twilio's message list: newest first, filtered by To, From and the day
        a message was sent (DateSent, DateSent<, DateSent>; Twilio compares
        dates, not times, and a message not yet sent has no DateSent), paged."""
        try:
            size = int(query.get("PageSize", "50"))
            page = int(query.get("Page", "0"))
            days = {op: _day(query[f"DateSent{op}"]) for op in ("", "<", ">") if f"DateSent{op}" in query}
        except ValueError as error:
            return twilio_error(20001, f"Invalid parameter: {error}", 400)
        if not 1 <= size <= 1000 or page < 0:
            return twilio_error(20001, "PageSize must be 1 to 1000, Page 0 or more", 400)
        with self._lock:
            found = [
                m.resource()
                for m in sorted(self.messages.values(), key=lambda m: m.created, reverse=True)
                if query.get("To", m.to) == m.to
                and query.get("From", m.from_) == m.from_
                and (not days or (m.sent is not None and _sent_within(m.sent.date(), days)))
            ]
        chosen = found[page * size : (page + 1) * size]
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

        def uri(number: int) -> str:
            return base + "?" + urlencode({**query, "PageSize": str(size), "Page": str(number)})

        return 200, {
            "messages": chosen,
            "end": page * size + max(len(chosen) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if (page + 1) * size < len(found) else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page else None,
            "start": page * size,
            "uri": uri(page),
        }

    def sent_log(self, to: str | None = None) -> list[dict[str, Any]]:
        """Every message the API accepted (to one number), oldest first, timed to the microsecond."""
        with self._lock:
            chosen = sorted((m for m in self.messages.values() if to in (None, m.to)), key=lambda m: m.created)
            return [
                {"sid": m.sid, "to": m.to, "from": m.from_, "body": m.body, "status": m.status,
                 "error_code": m.error_code, "created": m.created.isoformat()}
                for m in chosen
            ]  # fmt: skip

    # --- faults: an outage, answers held back -----------------------------

    def outage(self, seconds: float | None = None) -> dict[str, Any]:
        """Start (or end, with 0) an outage of the Messages API; None only reports."""
        with self._lock:
            if seconds is not None:
                self._outage_until = time.monotonic() + max(0.0, seconds)
                self._outage_refused = 0
            left = max(0.0, self._outage_until - time.monotonic())
            return {"seconds_left": round(left, 3), "refused": self._outage_refused}

    def refused_by_outage(self) -> bool:
        """Whether the API is down now; a refused call is counted."""
        with self._lock:
            if time.monotonic() >= self._outage_until:
                return False
            self._outage_refused += 1
            return True

    def slow(self, seconds: float, count: int = 1, to: list[str] | None = None) -> dict[str, Any]:
        with self._lock:
            self._slow.append(SlowAnswer(seconds, count, frozenset(to or ())))
            return {"pending": sum(rule.count for rule in self._slow)}

    def _slow_answer(self, to: str) -> float | None:
        with self._lock:
            for rule in self._slow:
                if not rule.to or to in rule.to:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._slow.remove(rule)
                    return rule.seconds
        return None

    # --- webhooks ----------------------------------------------------------

    def deliver(self, url: str, form: dict[str, str], forged: bool = False, proxy: str | None = None) -> Delivery:
        """POST a webhook as Twilio does: signed over the URL without its
        #fragment, retried as the fragment's connection overrides say."""
        target, _, fragment = url.partition("#")
        overrides = ConnectionOverrides.parse(fragment)
        signature = self._validator.compute_signature(target, form)
        if forged:
            signature = base64.b64encode(secrets.token_bytes(20)).decode()
        proxies = {"http": proxy, "https": proxy} if proxy else None
        deadline = time.monotonic() + overrides.total_ms / 1000
        outcomes: list[str] = []
        for attempt in range(overrides.retries + 1):
            left = deadline - time.monotonic()
            if attempt and left <= 0:
                break
            timeout = (min(overrides.connect_timeout_ms / 1000, left), min(overrides.read_timeout_ms / 1000, left))
            try:
                response = requests.post(
                    target, data=form, headers={"X-Twilio-Signature": signature}, timeout=timeout, proxies=proxies
                )
            except requests.RequestException as error:
                failure = failure_of(error)
                outcomes.append(str(failure))
                delivery = Delivery(outcomes, None, error)
            else:
                failure = failure_of(response)
                outcomes.append(str(response.status_code))
                delivery = Delivery(outcomes, response)
            if failure is None or not overrides.retries_after(failure):
                break
        return delivery

    def post_signed(
        self, url: str, form: dict[str, str], forged: bool = False, proxy: str | None = None
    ) -> requests.Response:
        return self.deliver(url, form, forged=forged, proxy=proxy).answer()

    # --- handsets ----------------------------------------------------------

    def text_service(
        self,
        from_: str,
        to: str,
        body: str,
        sid: str | None = None,
        forged: bool = False,
        advanced_opt_out: bool = False,
        webhook_url: str | None = None,
        proxy: str | None = None,
    ) -> dict[str, Any]:
        """A handset texts the service; returns the webhook's (last) answer."""
        sid = sid or new_sid()
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "Body": body,
            "From": from_,
            "To": to,
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "NumMedia": "0",
            "NumSegments": "1",
        }
        word = body.strip().rstrip(".!?").upper()
        if word in OPT_OUT_WORDS:
            self.opted_out.add(from_)
        elif word in OPT_IN_WORDS - {"YES"}:
            self.opted_out.discard(from_)
        answered_by_twilio: list[str] = []
        if advanced_opt_out:
            kind = (
                "STOP"
                if word in OPT_OUT_WORDS
                else "START"
                if word in OPT_IN_WORDS
                else "HELP"
                if word in HELP_WORDS
                else None
            )
            if kind:
                form["OptOutType"] = kind
                answered_by_twilio.append(f"Twilio {kind} auto-reply")
        delivery = self.deliver(webhook_url or self.inbound_url, form, forged=forged, proxy=proxy)
        response = delivery.answer()
        replies = twiml_messages(response.content) if response.status_code == 200 else []
        for text in answered_by_twilio + replies:
            self._deliver(from_, to, text, new_sid())
        return {
            "sid": sid,
            "status": response.status_code,
            "replies": replies,
            "response": response.text,
            "attempts": len(delivery.outcomes),
            "outcomes": delivery.outcomes,
        }

    def _deliver(self, handset: str, sender: str, body: str, sid: str) -> None:
        with self._lock:
            self.handsets.setdefault(handset, []).append(
                {"sid": sid, "from": sender, "body": body, "at": datetime.now(UTC).isoformat()}
            )

    def received(self, handset: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.handsets.get(handset, []))

    def replay_status(
        self,
        sid: str,
        to: str,
        from_: str,
        events: list[dict[str, Any]],
        webhook_url: str | None = None,
        proxy: str | None = None,
    ) -> list[int]:
        message = self.messages.get(sid) or SimMessage(
            sid=sid,
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            body="",
            messaging_service_sid=None,
            status_callback=None,
        )
        url = webhook_url or f"{self.webhook_base_url}/twilio/status"
        return [self._callback(url, message, e["status"], e.get("error_code"), proxy) for e in events]

    # --- HTTP ---------------------------------------------------------------

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        server = _BurstServer((host, port), _handler_for(self))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class _BurstServer(ThreadingHTTPServer):
    """socketserver's listen backlog is 5: handsets texting in bursts of 16 would
    have connections reset before they are read (Twilio takes any burst)."""

    request_queue_size = 128


def twiml_messages(document: bytes | str) -> list[str]:
    """The texts a TwiML answer sends back (<Message>text</Message> or <Body>), read
    as XML reads them (bytes: in the encoding the document declares, UTF-8 by default)."""
    try:
        root = ET.fromstring(document)  # noqa: S314 (our own service's answer, on loopback)
    except ET.ParseError:
        return []
    texts = []
    for message in root.iter("Message"):
        body = message.find("Body")
        texts.append((body.text if body is not None else message.text) or "")
    return [text for text in texts if text]


def _handler_for(sim: TwilioSimulator) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's names)
            if self.path == "/health":
                return self._send(200, {"status": "ok"})
            if self.path.startswith("/sim/handsets/"):
                return self._send(200, {"messages": sim.received(unquote(self.path.rsplit("/", 1)[1]))})
            path, _, query_text = self.path.partition("?")
            query = {k: v[-1] for k, v in parse_qs(query_text, keep_blank_values=True).items()}
            if path == "/sim/outage":
                return self._send(200, sim.outage())
            if path == "/sim/messages":
                return self._send(200, {"messages": sim.sent_log(query.get("to"))})
            listing = API_PATH.match(path)
            if listing and not listing["sid"]:
                if sim.refused_by_outage():
                    return self._send(*outage_error())
                if not sim.authorised(listing["account"], self.headers.get("Authorization")):
                    return self._send(*twilio_error(20003, "Authenticate", 401))
                return self._send(*sim.list_messages(query))
            match = API_PATH.match(self.path)
            if match and sim.refused_by_outage():
                return self._send(*outage_error())
            if match and match["sid"]:
                if not sim.authorised(match["account"], self.headers.get("Authorization")):
                    return self._send(*twilio_error(20003, "Authenticate", 401))
                message = sim.messages.get(match["sid"])
                if message is None:
                    return self._send(*twilio_error(20404, "The requested resource was not found", 404))
                return self._send(200, message.resource())
            return self._send(*twilio_error(20404, "The requested resource was not found", 404))

        def do_POST(self) -> None:  # noqa: N802 (http.server's names)
            match = API_PATH.match(self.path)
            if match and sim.refused_by_outage():
                self._body()  # read, as a server does before it answers
                return self._send(*outage_error())
            if self.path in ("/sim/outage", "/sim/slow"):
                try:
                    request = json.loads(self._body() or b"{}")
                    if self.path == "/sim/outage":
                        return self._send(200, sim.outage(float(request["seconds"])))
                    to = request.get("to")
                    return self._send(
                        200, sim.slow(float(request["seconds"]), int(request.get("count", 1)), list(to) if to else None)
                    )
                except (KeyError, TypeError, ValueError) as error:
                    return self._send(400, {"message": f"bad simulator request: {error!r}"})
            if match and not match["sid"]:
                if not sim.authorised(match["account"], self.headers.get("Authorization")):
                    return self._send(*twilio_error(20003, "Authenticate", 401))
                form = {k: v[-1] for k, v in parse_qs(self._body().decode(), keep_blank_values=True).items()}
                return self._send(*sim.create_message(form))
            if self.path not in ("/sim/inbound", "/sim/status"):
                return self._send(*twilio_error(20404, "The requested resource was not found", 404))
            try:
                request = json.loads(self._body() or b"{}")
                return self._send(200, self._simulate(request))
            except (KeyError, TypeError, ValueError) as error:
                return self._send(400, {"message": f"bad simulator request: {error!r}"})
            except requests.RequestException as error:
                return self._send(HTTPStatus.BAD_GATEWAY, {"message": f"service unreachable: {error}"})

        def _simulate(self, request: dict[str, Any]) -> dict[str, Any]:
            if self.path == "/sim/inbound":
                return sim.text_service(
                    request["from"],
                    request["to"],
                    request["body"],
                    sid=request.get("sid"),
                    forged=bool(request.get("forged")),
                    advanced_opt_out=bool(request.get("advanced_opt_out")),
                    webhook_url=request.get("webhook_url"),
                    proxy=request.get("proxy"),
                )
            statuses = sim.replay_status(
                request["sid"],
                request["to"],
                request["from"],
                request["events"],
                webhook_url=request.get("webhook_url"),
                proxy=request.get("proxy"),
            )
            return {"statuses": statuses}

    return Handler
