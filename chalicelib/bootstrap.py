"""Wiring: builds the adapters once per Lambda container, lazily."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from chalicelib.config import Settings, parse_hashes
from chalicelib.domain.policy import PolicySettings
from chalicelib.services.ports import (
    CampaignStore,
    Clock,
    ConversationStore,
    JobQueue,
    PromptBook,
    RunStore,
    Sender,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: ConversationStore
    clock: Clock
    campaigns: CampaignStore
    runs: RunStore
    prompts: PromptBook
    plan_queue: JobQueue
    send_queue: JobQueue
    policy: PolicySettings = field(default_factory=PolicySettings)


_current: Deps | None = None
_sender: Sender | None = None
_secrets: dict[str, str] = {}  # SSM parameter name -> value, per container


def deps() -> Deps:
    global _current
    if _current is None:
        _current = build(Settings.from_env())
    return _current


def build(settings: Settings) -> Deps:
    import boto3  # AWS_ENDPOINT_URL (boto3's own) points it at the local emulator

    from chalicelib.adapters.clock import SystemClock
    from chalicelib.adapters.sqs_queue import SqsQueue

    deps = on_dynamodb(settings, boto3.client("dynamodb"), SystemClock())
    return replace(
        deps,
        plan_queue=SqsQueue(lambda: boto3.client("sqs"), settings.plan_queue_url),
        send_queue=SqsQueue(lambda: boto3.client("sqs"), settings.send_queue_url),
    )


class _NoQueue:
    """Where no queue is wired (the webhooks never enqueue)."""

    def enqueue(self, jobs: list[dict[str, object]], delay_s: int = 0) -> None:
        if jobs:
            raise RuntimeError(f"no queue is wired for {len(jobs)} jobs (delay {delay_s} s)")


def on_dynamodb(settings: Settings, dynamodb: DynamoDBClient, clock: Clock) -> Deps:
    """The stores on one DynamoDB client; tests and benchmarks wire through here too
    (queues to be swapped in with dataclasses.replace)."""
    from chalicelib.adapters.dynamodb_runs import DynamoRunStore
    from chalicelib.adapters.dynamodb_store import DynamoCampaignStore, DynamoConversationStore, DynamoPromptBook

    return Deps(
        settings=settings,
        store=DynamoConversationStore(dynamodb, settings.table_name),
        clock=clock,
        campaigns=DynamoCampaignStore(dynamodb, settings.table_name),
        runs=DynamoRunStore(dynamodb, settings.table_name),
        prompts=DynamoPromptBook(dynamodb, settings.table_name),
        plan_queue=_NoQueue(),
        send_queue=_NoQueue(),
    )


def _secret(parameter: str) -> str:
    """An SSM SecureString, read the first time a handler needs it (so only the
    functions that use a secret read it, or are granted it), then kept."""
    if parameter not in _secrets:
        import boto3

        from chalicelib.adapters.secrets import read_secret

        _secrets[parameter] = read_secret(boto3.client("ssm"), parameter)
    return _secrets[parameter]


def twilio_auth_token() -> str:
    """Empty when neither set nor readable: webhooks are then refused."""
    s = deps().settings
    return s.twilio_auth_token or (_secret(s.twilio_auth_token_param) if s.twilio_auth_token_param else "")


def operator_token_hashes() -> frozenset[str]:
    s = deps().settings
    if s.operator_token_hashes or not s.operator_tokens_param:
        return s.operator_token_hashes
    return parse_hashes(_secret(s.operator_tokens_param))


def sender() -> Sender:
    """Twilio, built on first use: only the sending Lambda pays for the import."""
    global _sender
    if _sender is None:
        from chalicelib.adapters.twilio_sender import TwilioSender

        s = deps().settings
        _sender = TwilioSender(
            s.twilio_account_sid,
            twilio_auth_token(),
            status_callback=f"{s.public_base_url.rstrip('/')}/twilio/status",
            messaging_service_sid=s.twilio_messaging_service_sid,
            from_number=s.twilio_from_number,
            api_base_url=s.twilio_api_base_url,
        )
    return _sender


def use(replacement: Deps | None, sender: Sender | None = None) -> None:
    """Swap the wiring (tests); None rebuilds from the environment on next use."""
    global _current, _sender
    _current, _sender = replacement, sender
    _secrets.clear()
