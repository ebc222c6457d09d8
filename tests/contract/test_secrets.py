"""The Twilio auth token and operator token hashes from SSM Parameter Store
(moto server): kept for a while once read, a failed read retried and never
kept, webhooks and sends failing closed until a read succeeds."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from chalicelib import bootstrap
from chalicelib.adapters.secrets import CLIENT_CONFIG, SecretStore, SecretUnavailableError
from chalicelib.adapters.twilio_sender import TwilioSender
from chalicelib.config import Settings
from tests.conftest import REGION, free_port

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    yield moto_endpoint
    bootstrap.use(None)


@pytest.fixture
def ssm(aws_env: str) -> SSMClient:
    return boto3.client("ssm", region_name=REGION)


def parameter(ssm: SSMClient, value: str | None = None) -> str:
    """A fresh parameter name, written as a SecureString when a value is given."""
    name = f"/rapport/test/{uuid.uuid4().hex}/secret"
    if value is not None:
        ssm.put_parameter(Name=name, Value=value, Type="SecureString")
    return name


class FlakySSM:
    """The real client, but its first `failures` GetParameter calls fail as an
    unreachable endpoint (or throttling) does."""

    def __init__(self, client: SSMClient, failures: int, throttle: bool = False) -> None:
        self._client, self.failures, self._throttle, self.calls = client, failures, throttle, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_parameter(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            if self._throttle:
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetParameter")
            raise EndpointConnectionError(endpoint_url="https://ssm.us-east-1.amazonaws.com/")
        return self._client.get_parameter(**kwargs)


def store(client: Any, **kwargs: Any) -> tuple[SecretStore, list[float]]:
    slept: list[float] = []
    return SecretStore(client, sleep=slept.append, **kwargs), slept


def test_the_token_is_read_from_a_secure_string_when_first_needed_then_kept(ssm: SSMClient) -> None:
    name = parameter(ssm, "from-ssm")
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN_PARAM": name, "TABLE_NAME": "unused"})
    bootstrap.use(bootstrap.build(settings))  # building reads no secret: tick and plan never need one
    assert bootstrap.twilio_auth_token() == "from-ssm"
    ssm.put_parameter(Name=name, Value="rotated", Type="SecureString", Overwrite=True)
    assert bootstrap.twilio_auth_token() == "from-ssm"  # kept for max_age (docs/operations.md: rotation)


def test_a_rotated_token_is_read_again_once_the_kept_value_is_too_old(ssm: SSMClient) -> None:
    name = parameter(ssm, "first")
    secrets, _ = store(ssm, max_age_s=0)  # every value already too old
    bootstrap.use(bootstrap.build(Settings.from_env({"TWILIO_AUTH_TOKEN_PARAM": name})), secrets=secrets)
    assert bootstrap.twilio_auth_token() == "first"
    ssm.put_parameter(Name=name, Value="second", Type="SecureString", Overwrite=True)
    assert bootstrap.twilio_auth_token() == "second"


def test_an_environment_token_wins_and_ssm_is_not_asked(aws_env: str) -> None:
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN": "from-env", "TWILIO_AUTH_TOKEN_PARAM": "/does/not/exist"})
    bootstrap.use(bootstrap.build(settings))
    assert bootstrap.twilio_auth_token() == "from-env"


def test_a_transient_failure_is_retried_with_a_short_backoff(ssm: SSMClient) -> None:
    name = parameter(ssm, "after-two-failures")
    flaky = FlakySSM(ssm, failures=2)
    secrets, slept = store(flaky)
    assert secrets.get(name) == "after-two-failures"
    assert flaky.calls == 3
    assert slept == [0.1, 0.2]


def test_a_failed_read_is_not_kept_so_the_next_use_reads_again(ssm: SSMClient) -> None:
    name = parameter(ssm, "back-again")
    flaky = FlakySSM(ssm, failures=3, throttle=True)  # as many failures as attempts
    secrets, _ = store(flaky)
    with pytest.raises(SecretUnavailableError, match="ThrottlingException"):
        secrets.get(name)
    assert secrets.get(name) == "back-again"
    assert secrets.get(name) == "back-again"
    assert flaky.calls == 4  # then kept: the third get asked nobody


def test_a_missing_parameter_is_not_retried_within_a_request(ssm: SSMClient) -> None:
    flaky = FlakySSM(ssm, failures=0)
    secrets, slept = store(flaky)
    with pytest.raises(SecretUnavailableError, match="ParameterNotFound"):
        secrets.get("/rapport/none/such")
    assert (flaky.calls, slept) == (1, [])


def test_webhooks_are_refused_while_the_token_is_unreadable_and_accepted_once_it_is(ssm: SSMClient) -> None:
    name = parameter(ssm)  # not written yet
    bootstrap.use(bootstrap.build(Settings.from_env({"TWILIO_AUTH_TOKEN_PARAM": name})))
    assert bootstrap.twilio_auth_token() == ""  # the webhook answers 503 (fail closed)
    ssm.put_parameter(Name=name, Value="now-there", Type="SecureString")
    assert bootstrap.twilio_auth_token() == "now-there"  # the next request reads again


def test_an_unreachable_ssm_endpoint_fails_closed_quickly(aws_env: str) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    unreachable = boto3.client("ssm", region_name=REGION, endpoint_url=endpoint, config=CLIENT_CONFIG)
    secrets, slept = store(unreachable)
    began = time.monotonic()
    with pytest.raises(SecretUnavailableError):
        secrets.get("/rapport/prod/twilio-auth-token")
    assert time.monotonic() - began < 5  # botocore's own retries are off: ours are the only ones
    assert slept == [0.1, 0.2]


def test_a_sender_is_never_built_without_a_token_and_is_built_once_one_is_readable(ssm: SSMClient) -> None:
    name = parameter(ssm)  # not written yet
    env = {"TWILIO_AUTH_TOKEN_PARAM": name, "TWILIO_FROM_NUMBER": "+15005550006", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32}
    secrets, _ = store(ssm, max_age_s=0)
    bootstrap.use(bootstrap.build(Settings.from_env(env)), secrets=secrets)
    with pytest.raises(SecretUnavailableError):
        bootstrap.sender()  # the send job fails, so SQS retries it: nothing is sent with no token
    ssm.put_parameter(Name=name, Value="token-1", Type="SecureString")
    first = bootstrap.sender()
    assert isinstance(first, TwilioSender)
    assert bootstrap.sender() is first  # same token, same sender
    ssm.put_parameter(Name=name, Value="token-2", Type="SecureString", Overwrite=True)
    assert bootstrap.sender() is not first  # a rotated token builds a new one


def test_no_token_configured_at_all_means_no_sender(aws_env: str) -> None:
    bootstrap.use(bootstrap.build(Settings.from_env({"TWILIO_FROM_NUMBER": "+15005550006"})))
    with pytest.raises(SecretUnavailableError, match="TWILIO_AUTH_TOKEN"):
        bootstrap.sender()


def test_operator_token_hashes_come_from_ssm_too(ssm: SSMClient) -> None:
    name = parameter(ssm, "AB12, cd34")
    bootstrap.use(bootstrap.build(Settings.from_env({"OPERATOR_TOKENS_PARAM": name})))
    assert bootstrap.operator_token_hashes() == {"ab12", "cd34"}


def test_unreadable_operator_token_hashes_refuse_the_api_until_readable(ssm: SSMClient) -> None:
    name = parameter(ssm)
    bootstrap.use(bootstrap.build(Settings.from_env({"OPERATOR_TOKENS_PARAM": name})))
    assert bootstrap.operator_token_hashes() == frozenset()  # the operator API answers 503
    ssm.put_parameter(Name=name, Value="ef56", Type="SecureString")
    assert bootstrap.operator_token_hashes() == {"ef56"}


def test_a_new_contact_needs_no_erasure_key_until_a_number_was_erased_while_opted_out(
    ssm: SSMClient, table: str
) -> None:
    name = parameter(ssm)  # never written: a deploy that skipped the step, with nobody erased yet
    bootstrap.use(bootstrap.build(Settings.from_env({"ERASURE_SECRET_PARAM": name, "TABLE_NAME": table})))
    assert bootstrap.remembered("+447700900880") is None  # a first text is taken: no SSM read was needed
    with pytest.raises(SecretUnavailableError):  # without the key, an opted-out number is not erased
        bootstrap.erasure_digest()
