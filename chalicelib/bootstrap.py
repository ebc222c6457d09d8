"""Wiring: builds the adapters once per Lambda container, lazily."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.config import Settings
from chalicelib.services.ports import Clock, ConversationStore


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: ConversationStore
    clock: Clock


_current: Deps | None = None


def deps() -> Deps:
    global _current
    if _current is None:
        _current = build(Settings.from_env())
    return _current


def build(settings: Settings) -> Deps:
    import boto3  # AWS_ENDPOINT_URL (boto3's own) points it at the local emulator

    from chalicelib.adapters.clock import SystemClock
    from chalicelib.adapters.dynamodb_store import DynamoConversationStore
    from chalicelib.adapters.secrets import read_secret

    if not settings.twilio_auth_token and settings.twilio_auth_token_param:
        token = read_secret(boto3.client("ssm"), settings.twilio_auth_token_param)
        settings = replace(settings, twilio_auth_token=token)
    store = DynamoConversationStore(boto3.client("dynamodb"), settings.table_name)
    return Deps(settings=settings, store=store, clock=SystemClock())


def use(replacement: Deps | None) -> None:
    """Swap the wiring (tests); None rebuilds from the environment on next use."""
    global _current
    _current = replacement
