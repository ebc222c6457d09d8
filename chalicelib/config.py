"""Settings, read from the environment in this one place and checked whole
when they are built: a bad value fails the container's start with one
SettingsError naming every bad variable, never a request later."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from chalicelib.domain.inbound import BrandReplies, BusinessHours
from chalicelib.domain.keywords import classify
from chalicelib.domain.ledger import LEASE, RETRY_FIRST_S, RETRY_MAX_S
from chalicelib.domain.links import COUNTED
from chalicelib.domain.orders import ATTRIBUTION
from chalicelib.domain.prompts import join_question
from chalicelib.domain.report import PriceListError, prices_from
from chalicelib.domain.retention import DEFAULT_RETENTION, MAX_DAYS, Retention
from chalicelib.domain.runs import BreakerSettings

__all__ = ["DEFAULT_TABLE_NAME", "Settings", "SettingsError", "parse_hashes"]

DEFAULT_TABLE_NAME = "rapport"
MAX_PLAN_SHARDS = 1_000_000  # DynamoDB's limit on a parallel scan's TotalSegments
MAX_SMS_BODY = 1600  # Twilio's limit on one message body

_TABLE_NAME = re.compile(r"[A-Za-z0-9_.\-]{3,255}")  # DynamoDB's rule
_SSM_NAME = re.compile(r"[A-Za-z0-9_.\-/]{1,2048}")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # as infra/resources.json's TwilioFromNumber
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_REORDER_WORD = re.compile(r"[A-Z0-9]{2,20}")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII only: "²".isdigit() is True, int("²") fails

# Each setting's environment variable, for messages that name what to fix.
_ENV = {
    "table_name": "TABLE_NAME",
    "twilio_auth_token_param": "TWILIO_AUTH_TOKEN_PARAM",
    "public_base_url": "PUBLIC_BASE_URL",
    "brand_name": "BRAND_NAME",
    "conversation_ack": "CONVERSATION_AUTO_REPLY",
    "operator_token_hashes": "OPERATOR_TOKEN_SHA256",
    "operator_tokens_param": "OPERATOR_TOKENS_PARAM",
    "brand_time_zone": "BRAND_TIME_ZONE",
    "business_hours": "BUSINESS_HOURS",
    "plan_shards": "PLAN_SHARDS",
    "plan_queue_url": "PLAN_QUEUE_URL",
    "send_queue_url": "SEND_QUEUE_URL",
    "events_queue_url": "EVENTS_QUEUE_URL",
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_messaging_service_sid": "TWILIO_MESSAGING_SERVICE_SID",
    "twilio_from_number": "TWILIO_FROM_NUMBER",
    "twilio_api_base_url": "TWILIO_API_BASE_URL",
    "send_lease_s": "SEND_LEASE_SECONDS",
    "send_retry_first_s": "SEND_RETRY_FIRST_SECONDS",
    "send_retry_max_s": "SEND_RETRY_MAX_SECONDS",
    "breaker_minimum_out": "BREAKER_MINIMUM_OUT",
    "sender_mps": "SENDER_MESSAGES_PER_SECOND",
    "retention_messages_days": "RETENTION_MESSAGES_DAYS",
    "retention_notes_days": "RETENTION_NOTES_DAYS",
    "retention_answers_days": "RETENTION_ANSWERS_DAYS",
    "retention_decisions_days": "RETENTION_DECISIONS_DAYS",
    "link_counted_days": "LINK_COUNTED_DAYS",
    "attribution_days": "ATTRIBUTION_DAYS",
    "segment_prices": "SEGMENT_PRICES",
    "price_currency": "PRICE_CURRENCY",
    "order_webhook_url": "ORDER_WEBHOOK_URL",
    "order_webhook_secret": "ORDER_WEBHOOK_SECRET",
    "order_webhook_secret_param": "ORDER_WEBHOOK_SECRET_PARAM",
    "erasure_secret": "ERASURE_SECRET",
    "erasure_secret_param": "ERASURE_SECRET_PARAM",
    "reorder_keywords": "REORDER_KEYWORDS",
    "join_keywords": "JOIN_KEYWORDS",
}
# Whole-number settings: variable -> (default: the code's own, least, most).
_WHOLE = {
    "BREAKER_MINIMUM_OUT": (BreakerSettings().minimum_out, 1, 1_000_000),
    "SEND_LEASE_SECONDS": (int(LEASE.total_seconds()), 1, 3600),
    "SEND_RETRY_FIRST_SECONDS": (RETRY_FIRST_S, 1, RETRY_MAX_S),
    "SEND_RETRY_MAX_SECONDS": (RETRY_MAX_S, 1, RETRY_MAX_S),  # SQS delays a message at most 15 minutes
    "SENDER_MESSAGES_PER_SECOND": (1, 1, 1000),  # the brand's own sender: 1, a long code's rate, unless told
    # How long each kind of personal record is kept, in days (0: until erased; docs/privacy.md)
    "RETENTION_MESSAGES_DAYS": (DEFAULT_RETENTION.messages, 0, MAX_DAYS),
    "RETENTION_NOTES_DAYS": (DEFAULT_RETENTION.notes, 0, MAX_DAYS),
    "RETENTION_ANSWERS_DAYS": (DEFAULT_RETENTION.answers, 0, MAX_DAYS),
    # erasure finds a held text from its decision: decisions outlast the longest hold (30 days) and its 2
    "RETENTION_DECISIONS_DAYS": (DEFAULT_RETENTION.decisions, 32, MAX_DAYS),
    "LINK_COUNTED_DAYS": (COUNTED.days, 1, 365),  # a short link's clicks count this long after its text
    "ATTRIBUTION_DAYS": (ATTRIBUTION.days, 1, 90),  # an order this soon after a campaign's text counts for its run
}


class SettingsError(ValueError):
    """Settings that cannot work. `problems` has one line per bad variable."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        super().__init__(f"{count} bad setting{'s' if count > 1 else ''}: " + "; ".join(self.problems))


def parse_hashes(text: str) -> frozenset[str]:
    """Comma-separated SHA-256 hex digests of the operator bearer tokens."""
    return frozenset(part.strip().lower() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    table_name: str
    twilio_auth_token: str  # empty: webhooks are refused (fail closed)
    twilio_auth_token_param: str  # in AWS: the SSM SecureString holding the token
    public_base_url: str
    brand_name: str
    support_contact: str
    conversation_ack: str
    operator_token_hashes: frozenset[str] = frozenset()  # sha256 hex of each bearer token
    operator_tokens_param: str = ""  # in AWS: the SSM SecureString holding those hashes
    brand_time_zone: str = "UTC"  # recurring campaign schedules and business hours are read in it
    business_hours: str = ""  # "09:00-17:30": the conversation acknowledgement is sent only inside them
    plan_shards: int = 16  # scan segments a run is planned in, one Lambda each
    plan_queue_url: str = ""
    send_queue_url: str = ""
    events_queue_url: str = ""  # order events and reorders: a queue of their own, never behind a campaign
    twilio_account_sid: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_from_number: str = ""  # used when no messaging service is set
    twilio_api_base_url: str = ""  # unset in AWS; the local simulator otherwise
    # The send path's clocks (services/send_text.py SendTiming). In AWS the lease must outlast a send
    # function's run (120 s) and the send queue's visibility timeout the lease; tests scale them down.
    send_lease_s: int = _WHOLE["SEND_LEASE_SECONDS"][0]
    send_retry_first_s: int = _WHOLE["SEND_RETRY_FIRST_SECONDS"][0]
    send_retry_max_s: int = _WHOLE["SEND_RETRY_MAX_SECONDS"][0]
    breaker_minimum_out: int = _WHOLE["BREAKER_MINIMUM_OUT"][0]  # texts out before a run's rates can pause it
    # segments a second from the brand's own sender (TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER),
    # which texts to contacts without a store go from; a store's sender has its own rate
    sender_mps: int = _WHOLE["SENDER_MESSAGES_PER_SECOND"][0]
    retention_messages_days: int = _WHOLE["RETENTION_MESSAGES_DAYS"][0]
    retention_notes_days: int = _WHOLE["RETENTION_NOTES_DAYS"][0]
    retention_answers_days: int = _WHOLE["RETENTION_ANSWERS_DAYS"][0]
    retention_decisions_days: int = _WHOLE["RETENTION_DECISIONS_DAYS"][0]
    link_counted_days: int = _WHOLE["LINK_COUNTED_DAYS"][0]
    attribution_days: int = _WHOLE["ATTRIBUTION_DAYS"][0]
    # A run's cost (domain/report.py): the price of one segment to each country, in PRICE_CURRENCY
    segment_prices: str = ""  # GB=0.0463,US=0.0083
    price_currency: str = "USD"
    # Purchases by text (domain/reorder.py): the brand's ordering system, and the key its calls are signed
    # with (the value, or in AWS the SSM SecureString holding it). Unset: REORDER is an ordinary text.
    order_webhook_url: str = ""
    order_webhook_secret: str = ""
    order_webhook_secret_param: str = ""
    reorder_keywords: str = "REORDER"  # comma-separated: the words that offer the last order again
    join_keywords: str = "JOIN"  # comma-separated: the words that ask to join (a double opt-in; empty: none)
    # The key of the hash an erased, opted-out number is remembered by (services/personal.py): the value,
    # or in AWS the SSM SecureString holding it. Unset: such a number cannot be erased (503 with the reason).
    erasure_secret: str = ""
    erasure_secret_param: str = ""

    def __post_init__(self) -> None:
        """However they were built (environment, tests, `replace`), settings that
        cannot work are refused here, and what requests use is parsed here once."""
        problems = self.problems()
        if problems:
            raise SettingsError(problems)
        _ = self.replies  # built now, so the first text finds it ready

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Raises SettingsError naming every bad variable, not just the first."""
        problems: list[str] = []
        shards = _whole_number(env, "PLAN_SHARDS", 16, 1, MAX_PLAN_SHARDS, problems)
        whole = {name: _whole_number(env, name, *limits, problems) for name, limits in _WHOLE.items()}
        try:
            settings = cls(
                table_name=env.get("TABLE_NAME", DEFAULT_TABLE_NAME),
                twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
                twilio_auth_token_param=env.get("TWILIO_AUTH_TOKEN_PARAM", ""),
                public_base_url=env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
                brand_name=env.get("BRAND_NAME", "Rapport"),
                support_contact=env.get("SUPPORT_CONTACT", "reply to this number to reach a person"),
                conversation_ack=env.get("CONVERSATION_AUTO_REPLY", ""),
                operator_token_hashes=parse_hashes(env.get("OPERATOR_TOKEN_SHA256", "")),
                operator_tokens_param=env.get("OPERATOR_TOKENS_PARAM", ""),
                brand_time_zone=env.get("BRAND_TIME_ZONE", "UTC"),
                business_hours=env.get("BUSINESS_HOURS", ""),
                plan_shards=shards,
                plan_queue_url=env.get("PLAN_QUEUE_URL", ""),
                send_queue_url=env.get("SEND_QUEUE_URL", ""),
                events_queue_url=env.get("EVENTS_QUEUE_URL", ""),
                twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
                twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
                twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
                twilio_api_base_url=env.get("TWILIO_API_BASE_URL", ""),
                send_lease_s=whole["SEND_LEASE_SECONDS"],
                send_retry_first_s=whole["SEND_RETRY_FIRST_SECONDS"],
                send_retry_max_s=whole["SEND_RETRY_MAX_SECONDS"],
                breaker_minimum_out=whole["BREAKER_MINIMUM_OUT"],
                sender_mps=whole["SENDER_MESSAGES_PER_SECOND"],
                retention_messages_days=whole["RETENTION_MESSAGES_DAYS"],
                retention_notes_days=whole["RETENTION_NOTES_DAYS"],
                retention_answers_days=whole["RETENTION_ANSWERS_DAYS"],
                retention_decisions_days=whole["RETENTION_DECISIONS_DAYS"],
                link_counted_days=whole["LINK_COUNTED_DAYS"],
                attribution_days=whole["ATTRIBUTION_DAYS"],
                segment_prices=env.get("SEGMENT_PRICES", ""),
                price_currency=env.get("PRICE_CURRENCY", "USD"),
                order_webhook_url=env.get("ORDER_WEBHOOK_URL", ""),
                order_webhook_secret=env.get("ORDER_WEBHOOK_SECRET", ""),
                order_webhook_secret_param=env.get("ORDER_WEBHOOK_SECRET_PARAM", ""),
                erasure_secret=env.get("ERASURE_SECRET", ""),
                erasure_secret_param=env.get("ERASURE_SECRET_PARAM", ""),
                reorder_keywords=env.get("REORDER_KEYWORDS", "REORDER"),
                join_keywords=env.get("JOIN_KEYWORDS", "JOIN"),
            )
        except SettingsError as error:
            raise SettingsError([*problems, *error.problems]) from None
        if problems:
            raise SettingsError(problems)
        return settings

    def problems(self) -> list[str]:
        """One line per setting that cannot work, naming its variable; none when all can."""
        found: list[str] = []

        def bad(name: str, why: str, show: bool = True) -> None:
            value = getattr(self, name)
            found.append(f"{_ENV[name]}={value!r}: {why}" if show else f"{_ENV[name]}: {why}")

        if not _TABLE_NAME.fullmatch(self.table_name):
            bad("table_name", "a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ . -")
        if not _is_http_url(self.public_base_url):
            bad("public_base_url", "the http(s) URL Twilio calls, stage prefix included, no query or fragment")
        if not self.brand_name.strip():
            bad("brand_name", "must not be empty: STOP, START and HELP answers name the brand")
        if len(self.conversation_ack) > MAX_SMS_BODY:
            bad("conversation_ack", f"at most {MAX_SMS_BODY} characters (one Twilio message)", show=False)
        zone_known = _is_zone(self.brand_time_zone)
        if not zone_known:
            bad("brand_time_zone", "an IANA time zone name such as Europe/London or UTC")
        if self.business_hours:
            try:  # with an unknown zone, only the hours' format is left to check here
                BusinessHours.parse(self.business_hours, self.brand_time_zone if zone_known else "UTC")
            except ValueError as error:
                bad("business_hours", str(error), show=False)
        if isinstance(self.plan_shards, bool) or not 1 <= self.plan_shards <= MAX_PLAN_SHARDS:
            bad("plan_shards", f"a whole number from 1 to {MAX_PLAN_SHARDS}")
        for name in (name for name, variable in _ENV.items() if variable in _WHOLE):
            _, least, most = _WHOLE[_ENV[name]]
            if isinstance(getattr(self, name), bool) or not least <= getattr(self, name) <= most:
                bad(name, f"a whole number from {least} to {most}")
        try:
            prices_from(self.segment_prices)
        except PriceListError as error:
            bad("segment_prices", str(error))
        if not re.fullmatch(r"[A-Z]{3}", self.price_currency):
            bad("price_currency", "a three-letter currency code, USD")
        if self.retention.answers_outlive_messages:
            bad("retention_answers_days", "at most RETENTION_MESSAGES_DAYS: erasure finds an answer from its text")
        if self.send_retry_first_s > self.send_retry_max_s:
            bad("send_retry_first_s", f"at most SEND_RETRY_MAX_SECONDS ({self.send_retry_max_s})")
        for name in (
            "plan_queue_url",
            "send_queue_url",
            "events_queue_url",
            "twilio_api_base_url",
            "order_webhook_url",
        ):
            if getattr(self, name) and not _is_http_url(getattr(self, name)):
                bad(name, "empty or an http(s) URL")
        for name in (
            "twilio_auth_token_param",
            "operator_tokens_param",
            "order_webhook_secret_param",
            "erasure_secret_param",
        ):
            if getattr(self, name) and not _SSM_NAME.fullmatch(getattr(self, name)):
                bad(name, "empty or an SSM parameter name such as /rapport/prod/twilio-auth-token")
        if self.order_webhook_url and not (self.order_webhook_secret or self.order_webhook_secret_param):
            bad("order_webhook_url", "needs ORDER_WEBHOOK_SECRET or ORDER_WEBHOOK_SECRET_PARAM: calls are signed")
        for name, words in (("reorder_keywords", self.reorder_words), ("join_keywords", self.join_words)):
            if clashing := [word for word in words if not _REORDER_WORD.fullmatch(word) or classify(word)]:
                bad(name, f"one-word keywords that are not STOP, START, HELP or YES words: {clashing}")
        if both := sorted(self.reorder_words & self.join_words):
            bad("join_keywords", f"words that are not REORDER_KEYWORDS too: {both}")
        if self.twilio_account_sid and not _ACCOUNT_SID.fullmatch(self.twilio_account_sid):
            bad("twilio_account_sid", "empty or AC and 32 hex digits")
        if self.twilio_messaging_service_sid and not _SERVICE_SID.fullmatch(self.twilio_messaging_service_sid):
            bad("twilio_messaging_service_sid", "empty or MG and 32 hex digits")
        if self.twilio_from_number and not _E164.fullmatch(self.twilio_from_number):
            bad("twilio_from_number", "empty or an E.164 number such as +15005550006")
        if not all(_SHA256_HEX.fullmatch(digest) for digest in self.operator_token_hashes):
            bad("operator_token_hashes", "comma-separated SHA-256 hex digests (64 hex digits each)", show=False)
        return found

    @property
    def retention(self) -> Retention:
        return Retention(
            self.retention_messages_days,
            self.retention_notes_days,
            self.retention_answers_days,
            self.retention_decisions_days,
        )

    @property
    def prices(self) -> dict[str, float]:
        """SEGMENT_PRICES, read (checked at start)."""
        return prices_from(self.segment_prices)

    @property
    def reorder_words(self) -> frozenset[str]:
        return _words(self.reorder_keywords)

    @property
    def join_words(self) -> frozenset[str]:
        return _words(self.join_keywords)

    @property
    def replies(self) -> BrandReplies:
        """Built once per distinct set of values, not per text. REORDER is a
        keyword only where an ordering system can take the order."""
        return _brand_replies(
            self.brand_name,
            self.support_contact,
            self.conversation_ack,
            self.business_hours,
            self.brand_time_zone,
            self.reorder_words if self.order_webhook_url else frozenset(),
            self.join_words,
        )


def _words(keywords: str) -> frozenset[str]:
    return frozenset(word.strip().upper() for word in keywords.split(",") if word.strip())


@lru_cache(maxsize=16)
def _brand_replies(
    brand: str,
    support_contact: str,
    ack: str,
    business_hours: str,
    zone: str,
    reorder_words: frozenset[str],
    join_words: frozenset[str],
) -> BrandReplies:
    return BrandReplies(
        opt_out=f"{brand}: you're unsubscribed and will get no more messages. Reply START to resubscribe.",
        opt_in=f"{brand}: you're subscribed again. Reply HELP for help, STOP to unsubscribe.",
        help=f"{brand}: for help, {support_contact}. Msg & data rates may apply. Reply STOP to unsubscribe.",
        conversation_ack=ack,
        business_hours=BusinessHours.parse(business_hours, zone) if business_hours else None,
        reorder_words=reorder_words,
        join_words=join_words,
        join=join_question(brand),
    )


def _whole_number(env: Mapping[str, str], name: str, default: int, least: int, most: int, problems: list[str]) -> int:
    """The variable as a whole number, or (noted in `problems`) the default, so the rest is still checked."""
    text = env.get(name, str(default))
    if _WHOLE_NUMBER.fullmatch(text):
        return int(text)
    problems.append(f"{name}={text!r}: a whole number from {least} to {most}")
    return default


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def _is_http_url(text: str) -> bool:
    try:
        url = urlsplit(text)
        url.port  # noqa: B018 (raises ValueError for a port that is not a number or out of range)
    except ValueError:
        return False
    return (
        url.scheme in ("http", "https")
        and bool(url.hostname)
        and not url.query
        and not url.fragment
        and text.isascii()
        and text.isprintable()
        and " " not in text
    )
