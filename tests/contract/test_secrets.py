"""The Twilio auth token from SSM Parameter Store (moto server), failing closed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.adapters.secrets import read_secret
from chalicelib.config import Settings
from tests.conftest import REGION


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    yield moto_endpoint
    bootstrap.use(None)


def test_the_token_is_read_from_a_secure_string_when_first_needed_then_kept(aws_env: str) -> None:
    name = f"/rapport/test/{uuid.uuid4().hex}/twilio-auth-token"
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=name, Value="from-ssm", Type="SecureString")
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN_PARAM": name, "TABLE_NAME": "unused"})
    bootstrap.use(bootstrap.build(settings))  # building reads no secret: tick and plan never need one
    assert bootstrap.twilio_auth_token() == "from-ssm"
    ssm.put_parameter(Name=name, Value="rotated", Type="SecureString", Overwrite=True)
    assert bootstrap.twilio_auth_token() == "from-ssm"  # once per container (docs/operations.md: rotation)


def test_an_environment_token_wins_and_ssm_is_not_asked(aws_env: str) -> None:
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN": "from-env", "TWILIO_AUTH_TOKEN_PARAM": "/does/not/exist"})
    bootstrap.use(bootstrap.build(settings))
    assert bootstrap.twilio_auth_token() == "from-env"


def test_a_missing_parameter_leaves_webhooks_refused(aws_env: str) -> None:
    assert read_secret(boto3.client("ssm", region_name=REGION), "/rapport/none/such") == ""


def test_operator_token_hashes_come_from_ssm_too(aws_env: str) -> None:
    name = f"/rapport/test/{uuid.uuid4().hex}/operator-token-hashes"
    boto3.client("ssm", region_name=REGION).put_parameter(Name=name, Value="AB12, cd34", Type="SecureString")
    bootstrap.use(bootstrap.build(Settings.from_env({"OPERATOR_TOKENS_PARAM": name})))
    assert bootstrap.operator_token_hashes() == {"ab12", "cd34"}
