"""Wiring: builds the adapters once per Lambda container, lazily."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from chalicelib.config import Settings, parse_hashes
from chalicelib.domain.policy import PolicySettings
from chalicelib.services.ports import CampaignStore, Clock, ConversationStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: ConversationStore
    clock: Clock
    campaigns: CampaignStore
    policy: PolicySettings = field(default_factory=PolicySettings)


_current: Deps | None = None


def deps() -> Deps:
    global _current
    if _current is None:
        _current = build(Settings.from_env())
    return _current


def build(settings: Settings) -> Deps:
    import boto3  # AWS_ENDPOINT_URL (boto3's own) points it at the local emulator

    from chalicelib.adapters.clock import SystemClock
    from chalicelib.adapters.secrets import read_secret

    if not settings.twilio_auth_token and settings.twilio_auth_token_param:
        token = read_secret(boto3.client("ssm"), settings.twilio_auth_token_param)
        settings = replace(settings, twilio_auth_token=token)
    if not settings.operator_token_hashes and settings.operator_tokens_param:
        hashes = parse_hashes(read_secret(boto3.client("ssm"), settings.operator_tokens_param))
        settings = replace(settings, operator_token_hashes=hashes)
    return on_dynamodb(settings, boto3.client("dynamodb"), SystemClock())


def on_dynamodb(settings: Settings, dynamodb: DynamoDBClient, clock: Clock) -> Deps:
    """The stores on one DynamoDB client; tests and benchmarks wire through here too."""
    from chalicelib.adapters.dynamodb_store import DynamoCampaignStore, DynamoConversationStore

    return Deps(
        settings=settings,
        store=DynamoConversationStore(dynamodb, settings.table_name),
        clock=clock,
        campaigns=DynamoCampaignStore(dynamodb, settings.table_name),
    )


def use(replacement: Deps | None) -> None:
    """Swap the wiring (tests); None rebuilds from the environment on next use."""
    global _current
    _current = replacement
