"""Wiring: builds the adapters once per Lambda container, lazily; settings
are read and checked at import of app.py (the cold start), see `settings()`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from chalicelib.config import Settings, SettingsError, parse_hashes
from chalicelib.domain.contact import ConsentEvent
from chalicelib.domain.policy import PolicySettings
from chalicelib.services.keys import KeyLookup, KeyStore
from chalicelib.services.personal import Digest
from chalicelib.services.ports import (
    CampaignStore,
    Clock,
    ConsentTextBook,
    ConversationStore,
    JobQueue,
    LinkBook,
    OrderingSystem,
    OrderTextBook,
    PersonalData,
    PromptBook,
    RunStore,
    SavedReplyBook,
    Sender,
    StoreBook,
)
from chalicelib.services.stores import StoreDirectory

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from chalicelib.adapters.secrets import SecretStore


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: ConversationStore
    clock: Clock
    campaigns: CampaignStore
    runs: RunStore
    prompts: PromptBook
    saved_replies: SavedReplyBook  # operators' canned replies for agents
    stores: StoreBook  # the brand's branches
    directory: StoreDirectory  # the same, as texts read them (kept for a minute)
    order_texts: OrderTextBook  # what an order's events text the customer
    plan_queue: JobQueue
    send_queue: JobQueue
    events_queue: JobQueue  # order events and reorders (jobs.events)
    keys: KeyStore  # the API keys (hashes), named, each with a role
    personal: PersonalData  # a number's data wherever it is kept: export and erasure
    consent_texts: ConsentTextBook  # the words consent was asked with, by version
    links: LinkBook  # each recipient's short links
    policy: PolicySettings = field(default_factory=PolicySettings)


_settings: Settings | None = None
_current: Deps | None = None
_sender: Sender | None = None
_sender_token: str | None = None  # the token the cached sender was built with; None: none built, or injected
_secret_store: SecretStore | None = None
_key_lookup: KeyLookup | None = None
_ordering: OrderingSystem | None = None


def settings() -> Settings:
    """This container's settings, read from the environment and checked once.
    app.py calls it at import, so a bad value fails the cold start (logged,
    every bad variable named) instead of a request with half its work done."""
    global _settings
    if _settings is None:
        from chalicelib.adapters.observability import logger

        try:
            _settings = Settings.from_env()
        except SettingsError as error:
            logger.error("bad settings: this container serves nothing", extra={"problems": list(error.problems)})
            raise
    return _settings


def deps() -> Deps:
    global _current
    if _current is None:
        _current = build(settings())
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
        events_queue=SqsQueue(lambda: boto3.client("sqs"), settings.events_queue_url),
    )


class _NoQueue:
    """Where no queue is wired (the webhooks never enqueue)."""

    def enqueue(self, jobs: list[dict[str, object]], delay_s: int = 0) -> None:
        if jobs:
            raise RuntimeError(f"no queue is wired for {len(jobs)} jobs (delay {delay_s} s)")


def on_dynamodb(settings: Settings, dynamodb: DynamoDBClient, clock: Clock) -> Deps:
    """The stores on one DynamoDB client; tests and benchmarks wire through here too
    (queues to be swapped in with dataclasses.replace)."""
    from chalicelib.adapters.dynamodb_keys import DynamoKeyStore
    from chalicelib.adapters.dynamodb_links import DynamoLinkBook
    from chalicelib.adapters.dynamodb_personal import DynamoPersonalData
    from chalicelib.adapters.dynamodb_runs import DynamoRunStore
    from chalicelib.adapters.dynamodb_store import (
        DynamoCampaignStore,
        DynamoConsentTextBook,
        DynamoConversationStore,
        DynamoOrderTextBook,
        DynamoPromptBook,
        DynamoStoreBook,
        saved_reply_shelf,
    )

    stores = DynamoStoreBook(dynamodb, settings.table_name)
    return Deps(
        settings=settings,
        store=DynamoConversationStore(dynamodb, settings.table_name, settings.retention),
        clock=clock,
        campaigns=DynamoCampaignStore(dynamodb, settings.table_name),
        runs=DynamoRunStore(dynamodb, settings.table_name, settings.retention),
        prompts=DynamoPromptBook(dynamodb, settings.table_name),
        saved_replies=saved_reply_shelf(dynamodb, settings.table_name),
        stores=stores,
        directory=StoreDirectory(stores, clock, settings.brand_name, settings.sender_mps),
        order_texts=DynamoOrderTextBook(dynamodb, settings.table_name),
        plan_queue=_NoQueue(),
        send_queue=_NoQueue(),
        events_queue=_NoQueue(),
        keys=DynamoKeyStore(dynamodb, settings.table_name),
        personal=DynamoPersonalData(dynamodb, settings.table_name),
        consent_texts=DynamoConsentTextBook(dynamodb, settings.table_name),
        links=DynamoLinkBook(dynamodb, settings.table_name),
    )


def _secrets() -> SecretStore:
    global _secret_store
    if _secret_store is None:
        import boto3

        from chalicelib.adapters.secrets import CLIENT_CONFIG, SecretStore

        _secret_store = SecretStore(boto3.client("ssm", config=CLIENT_CONFIG))
    return _secret_store


def _required_twilio_auth_token() -> str:
    """Raises SecretUnavailableError when no token can be had now (a later call reads again)."""
    s = deps().settings
    if s.twilio_auth_token:
        return s.twilio_auth_token
    if not s.twilio_auth_token_param:
        from chalicelib.adapters.secrets import SecretUnavailableError

        raise SecretUnavailableError("neither TWILIO_AUTH_TOKEN nor TWILIO_AUTH_TOKEN_PARAM is set")
    return _secrets().get(s.twilio_auth_token_param)


def twilio_auth_token() -> str:
    """Empty when neither set nor readable now: this webhook is then refused
    (fail closed), and the next one reads the secret again."""
    s = deps().settings
    if s.twilio_auth_token or not s.twilio_auth_token_param:
        return s.twilio_auth_token  # no SSM, so no import of its client either
    from chalicelib.adapters.secrets import SecretUnavailableError

    try:
        return _secrets().get(s.twilio_auth_token_param)
    except SecretUnavailableError:
        return ""


def operator_token_hashes() -> frozenset[str]:
    """Empty (the operator API answers 503) while the SSM parameter cannot be read."""
    s = deps().settings
    if s.operator_token_hashes or not s.operator_tokens_param:
        return s.operator_token_hashes
    from chalicelib.adapters.secrets import SecretUnavailableError

    try:
        return parse_hashes(_secrets().get(s.operator_tokens_param))
    except SecretUnavailableError:
        return frozenset()


def key_lookup() -> KeyLookup:
    """This container's key lookups (kept LOOKUP_TTL_S), on the current wiring's key store."""
    global _key_lookup
    if _key_lookup is None:
        _key_lookup = KeyLookup(lambda: deps().keys)
    return _key_lookup


def sender() -> Sender:
    """Twilio, built on first use: only the sending Lambda pays for the import.
    Without a token it raises SecretUnavailableError (the send job is retried)
    rather than build a sender whose every send fails; it is rebuilt when the
    token read from SSM changes (rotation)."""
    global _sender, _sender_token
    if _sender is not None and _sender_token is None:
        return _sender  # injected by use()
    token = _required_twilio_auth_token()
    if _sender is None or token != _sender_token:
        from chalicelib.adapters.twilio_sender import TwilioSender
        from chalicelib.adapters.webhook import CONNECTION_OVERRIDES

        s = deps().settings
        _sender = TwilioSender(
            s.twilio_account_sid,
            token,
            # the overrides make Twilio retry a receipt we could not take (docs/operations.md)
            status_callback=f"{s.public_base_url.rstrip('/')}/twilio/status#{CONNECTION_OVERRIDES}",
            messaging_service_sid=s.twilio_messaging_service_sid,
            from_number=s.twilio_from_number,
            api_base_url=s.twilio_api_base_url,
        )
        _sender_token = token
    return _sender


def ordering_system() -> OrderingSystem:
    """The brand's ordering system (ORDER_WEBHOOK_URL), built on first use; its
    signing secret is read per call (ORDER_WEBHOOK_SECRET, or from SSM)."""
    global _ordering
    if _ordering is None:
        from chalicelib.adapters.ordering_webhook import OrderWebhook

        s = deps().settings
        secret = s.order_webhook_secret
        _ordering = OrderWebhook(
            s.order_webhook_url, (lambda: secret) if secret else lambda: _secrets().get(s.order_webhook_secret_param),
            deps().clock,
        )  # fmt: skip
    return _ordering


def erasure_digest() -> Digest | None:
    """The keyed hash an erased, opted-out number is remembered by; its key is
    ERASURE_SECRET, or read from SSM (ERASURE_SECRET_PARAM, cached). None when
    neither is set: then no opted-out number can be erased, so none is remembered."""
    from chalicelib.services.personal import keyed_hash

    s = deps().settings
    if s.erasure_secret:
        return keyed_hash(s.erasure_secret.encode())
    if s.erasure_secret_param:
        return keyed_hash(_secrets().get(s.erasure_secret_param).encode())
    return None


def remembered(phone: str) -> ConsentEvent | None:
    """A number's STOP kept through its erasure, for a contact made anew (services/personal.py)."""
    from chalicelib.services.personal import remembered_stop

    return remembered_stop(phone, deps().personal, erasure_digest)


def use(
    replacement: Deps | None,
    sender: Sender | None = None,
    secrets: SecretStore | None = None,
    lookup: KeyLookup | None = None,
    ordering: OrderingSystem | None = None,
) -> None:
    """Swap the wiring (tests); None rebuilds from the environment on next use."""
    global _settings, _current, _sender, _sender_token, _secret_store, _key_lookup, _ordering
    _settings = replacement.settings if replacement is not None else None
    _current, _sender, _sender_token, _secret_store = replacement, sender, None, secrets
    _key_lookup, _ordering = lookup, ordering
