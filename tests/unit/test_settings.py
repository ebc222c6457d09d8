"""Settings are checked whole when the container starts: a bad value is one
SettingsError naming every bad variable, never a failure on each text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import time

import pytest

from chalicelib.config import Settings, SettingsError
from chalicelib.domain.inbound import BusinessHours
from local.stack import ROOT


def problems_with(env: dict[str, str]) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    return raised.value.problems


def test_the_defaults_are_good_settings() -> None:
    settings = Settings.from_env({})
    assert (settings.plan_shards, settings.brand_time_zone, settings.replies.business_hours) == (16, "UTC", None)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BUSINESS_HOURS", "9 to 5"),
        ("BUSINESS_HOURS", "09:00"),
        ("BUSINESS_HOURS", "9:00-17:00"),
        ("BUSINESS_HOURS", "0900-1700"),
        ("BUSINESS_HOURS", "17:00-09:00"),  # overnight: would never be open
        ("BUSINESS_HOURS", "09:00-09:00"),
        ("BUSINESS_HOURS", "09:00-24:00"),
        ("BUSINESS_HOURS", "09:60-17:00"),
        ("BUSINESS_HOURS", "09:00-05:00-17:00"),  # "05:00-17:00" is an ISO time with an offset
        ("BUSINESS_HOURS", "٠٩:٠٠-١٧:٠٠"),  # Arabic-Indic digits: decimal, not ASCII
        ("BRAND_TIME_ZONE", "Mars/Olympus_Mons"),
        ("BRAND_TIME_ZONE", "utc"),
        ("BRAND_TIME_ZONE", ""),
        ("BRAND_TIME_ZONE", "../../etc/passwd"),
        ("PLAN_SHARDS", "0"),
        ("PLAN_SHARDS", "-1"),
        ("PLAN_SHARDS", "abc"),
        ("PLAN_SHARDS", "²"),
        ("PLAN_SHARDS", "1e9"),
        ("PLAN_SHARDS", "1.5"),
        ("PLAN_SHARDS", ""),
        ("PLAN_SHARDS", "2000000"),
        ("SEND_LEASE_SECONDS", "0"),
        ("SEND_LEASE_SECONDS", "4m"),
        ("SEND_RETRY_MAX_SECONDS", "901"),  # SQS delays a message at most 15 minutes
        ("SEND_RETRY_FIRST_SECONDS", "0"),
        ("BREAKER_MINIMUM_OUT", "0"),
        ("PUBLIC_BASE_URL", "ftp://example.com"),
        ("PUBLIC_BASE_URL", "example.com/prod"),
        ("PUBLIC_BASE_URL", "https://"),
        ("PUBLIC_BASE_URL", "https://example.com/prod?x=1"),
        ("PUBLIC_BASE_URL", "https://example.com:99999"),
        ("PUBLIC_BASE_URL", "https://exa mple.com"),
        ("TABLE_NAME", "ab"),
        ("TABLE_NAME", "my table"),
        ("TWILIO_API_BASE_URL", "127.0.0.1:4010"),
        ("PLAN_QUEUE_URL", "rapport-plan"),
        ("SEND_QUEUE_URL", "sqs://rapport-send"),
        ("TWILIO_ACCOUNT_SID", "AC123"),
        ("TWILIO_MESSAGING_SERVICE_SID", "AC" + "1" * 32),
        ("TWILIO_FROM_NUMBER", "07700 900123"),
        ("OPERATOR_TOKEN_SHA256", "not-a-digest"),
        ("TWILIO_AUTH_TOKEN_PARAM", "twilio token"),
        ("OPERATOR_TOKENS_PARAM", "/rapport/prod/*"),
        ("BRAND_NAME", " "),
        ("CONVERSATION_AUTO_REPLY", "x" * 1601),
        ("ORDER_WEBHOOK_URL", "https://orders.example.com/rapport"),  # no secret to sign its calls with
        ("ORDER_WEBHOOK_SECRET_PARAM", "order secret"),
        ("REORDER_KEYWORDS", "REORDER,STOP"),  # STOP must stay STOP
        ("REORDER_KEYWORDS", "YES"),  # YES answers questions
        ("REORDER_KEYWORDS", "ORDER AGAIN"),  # one word
        ("JOIN_KEYWORDS", "JOIN,START"),  # START must stay START
        ("JOIN_KEYWORDS", "REORDER"),  # a REORDER word too
        ("ERASURE_SECRET_PARAM", "erasure secret"),
        ("RETENTION_MESSAGES_DAYS", "3651"),
        ("RETENTION_DECISIONS_DAYS", "31"),  # shorter than the longest hold: erasure would miss it
        ("RETENTION_ANSWERS_DAYS", "0"),  # kept longer than the texts they are found from
        ("RETENTION_ANSWERS_DAYS", "731"),  # a day longer than the texts
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(variable: str, value: str) -> None:
    problems = problems_with({variable: value})
    assert len(problems) == 1
    assert problems[0].startswith(variable)


def test_one_error_names_every_bad_variable_and_why() -> None:
    env = {"BUSINESS_HOURS": "9 to 5", "BRAND_TIME_ZONE": "Nowhere/Town", "PLAN_SHARDS": "²", "PUBLIC_BASE_URL": "x"}
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    message = str(raised.value)
    assert message.startswith("4 bad settings: ")
    for variable in env:
        assert variable in message
    assert "HH:MM-HH:MM" in message and "IANA" in message and "whole number" in message and "http(s)" in message


def test_the_first_retry_wait_may_not_exceed_the_longest() -> None:
    problems = problems_with({"SEND_RETRY_FIRST_SECONDS": "60", "SEND_RETRY_MAX_SECONDS": "30"})
    assert problems == ("SEND_RETRY_FIRST_SECONDS=60: at most SEND_RETRY_MAX_SECONDS (30)",)


def test_secrets_are_never_echoed_in_the_error() -> None:
    secret_like = "0123456789abcdef" * 3  # 48 hex digits: not a SHA-256 digest
    message = str(problems_with({"OPERATOR_TOKEN_SHA256": secret_like, "TWILIO_AUTH_TOKEN": "s3cret"}))
    assert secret_like not in message and "s3cret" not in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BUSINESS_HOURS", "09:00-17:30"),
        ("BUSINESS_HOURS", " 08:00 - 20:00 "),
        ("BUSINESS_HOURS", ""),
        ("BRAND_TIME_ZONE", "America/Chicago"),
        ("PLAN_SHARDS", "1"),
        ("SEND_LEASE_SECONDS", "20"),
        ("SEND_RETRY_FIRST_SECONDS", "1"),
        ("BREAKER_MINIMUM_OUT", "40"),
        ("PUBLIC_BASE_URL", "https://abc123.execute-api.eu-west-2.amazonaws.com/prod"),
        ("PUBLIC_BASE_URL", "http://127.0.0.1:8000/"),
        ("TWILIO_FROM_NUMBER", "+15005550006"),
        ("TWILIO_MESSAGING_SERVICE_SID", "MG" + "ab" * 16),
        ("TWILIO_AUTH_TOKEN_PARAM", "/rapport/prod/twilio-auth-token"),
        ("OPERATOR_TOKEN_SHA256", "A" * 64 + ", " + "b" * 64),
        ("REORDER_KEYWORDS", "reorder, again,USUAL"),
        ("ORDER_WEBHOOK_SECRET_PARAM", "/rapport/prod/order-webhook-secret"),
    ],
)
def test_good_values_are_accepted(variable: str, value: str) -> None:
    Settings.from_env({variable: value})


def test_reorder_is_a_keyword_only_where_an_ordering_system_takes_the_order() -> None:
    assert Settings.from_env({}).replies.reorder_words == frozenset()
    wired = {"ORDER_WEBHOOK_URL": "https://orders.example.com/rapport", "ORDER_WEBHOOK_SECRET": "s"}
    assert Settings.from_env({**wired, "REORDER_KEYWORDS": "reorder, usual"}).replies.reorder_words == {
        "REORDER",
        "USUAL",
    }
    message = str(problems_with({**wired, "ORDER_WEBHOOK_SECRET": "", "TWILIO_AUTH_TOKEN": "x"}))
    assert "ORDER_WEBHOOK_URL" in message and "ORDER_WEBHOOK_SECRET" in message


def test_business_hours_and_replies_are_built_once_not_per_text() -> None:
    settings = Settings.from_env({"BUSINESS_HOURS": "09:00-17:30", "BRAND_TIME_ZONE": "Europe/London"})
    assert settings.replies is settings.replies
    assert settings.replies.business_hours == BusinessHours(time(9), time(17, 30), "Europe/London")


def test_settings_built_in_code_are_checked_too() -> None:
    good = Settings.from_env({})
    with pytest.raises(SettingsError, match="PLAN_SHARDS"):
        replace(good, plan_shards=0)
    with pytest.raises(SettingsError, match="BRAND_TIME_ZONE"):
        replace(good, brand_time_zone="Europe/Londn")
    assert replace(good, plan_shards=2).plan_shards == 2


def test_a_bad_setting_fails_the_cold_start_loudly_not_a_request() -> None:
    """Importing app.py is Lambda's cold start (and `chalice local`'s): it must
    fail there, logged, rather than answer 500 to every text later."""
    env = {**os.environ, "BUSINESS_HOURS": "9 to 5", "PLAN_SHARDS": "²", "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run(
        [sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "SettingsError: 2 bad settings" in done.stderr
    logged = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert any(entry["level"] == "ERROR" and any("BUSINESS_HOURS" in p for p in entry["problems"]) for entry in logged)
