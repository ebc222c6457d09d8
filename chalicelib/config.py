"""Settings, read from the environment in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.domain.inbound import BrandReplies, BusinessHours

DEFAULT_TABLE_NAME = "rapport"


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
    twilio_account_sid: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_from_number: str = ""  # used when no messaging service is set
    twilio_api_base_url: str = ""  # unset in AWS; the local simulator otherwise

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
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
            plan_shards=int(env.get("PLAN_SHARDS", "16")),
            plan_queue_url=env.get("PLAN_QUEUE_URL", ""),
            send_queue_url=env.get("SEND_QUEUE_URL", ""),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL", ""),
        )

    @property
    def replies(self) -> BrandReplies:
        brand = self.brand_name
        return BrandReplies(
            opt_out=f"{brand}: you're unsubscribed and will get no more messages. Reply START to resubscribe.",
            opt_in=f"{brand}: you're subscribed again. Reply HELP for help, STOP to unsubscribe.",
            help=f"{brand}: for help, {self.support_contact}. Msg & data rates may apply. Reply STOP to unsubscribe.",
            conversation_ack=self.conversation_ack,
            business_hours=BusinessHours.parse(self.business_hours, self.brand_time_zone)
            if self.business_hours
            else None,
        )
