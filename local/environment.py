"""The local stack's addresses and the environment its processes get: what
`make run` (local/stack.py) starts them with and `make key` (local/keys.py)
reaches them by."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.services.keys import key_hash

LOOPBACK = "127.0.0.1"
BRAND_NUMBER = "+15005550006"
# Printed defaults for what `make run` honours from the environment.
DEFAULTS = {
    "TWILIO_AUTH_TOKEN": "local-dev-auth-token",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TABLE_NAME": "rapport",
    "OPERATOR_TOKEN": "local-operator-token",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "BRAND_TIME_ZONE": "Europe/London",
    "TWILIO_FROM_NUMBER": BRAND_NUMBER,
    "SENDER_MESSAGES_PER_SECOND": "100",  # the simulator's number takes a short code's rate; campaigns may cap lower
    "PLAN_SHARDS": "4",
    "ORDER_WEBHOOK_SECRET": "local-order-webhook-secret",  # the ordering simulator's (local/ordering_sim.py)
    "ERASURE_SECRET": "local-erasure-secret",  # the key an erased, opted-out number is remembered by
}


@dataclass(frozen=True)
class Ports:
    api: int = 8000
    aws: int = 4566
    twilio: int = 4010
    ordering: int = 4020  # the ordering-system simulator
    tick_seconds: float = 60.0  # how often the local EventBridge schedule fires
    send_visibility_s: int | None = None  # the send queue's visibility timeout (None: infra's)


def stack_env(ports: Ports, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    env = dict(base)
    for name, value in DEFAULTS.items():
        env.setdefault(name, value)
    env.setdefault("PUBLIC_BASE_URL", f"http://{LOOPBACK}:{ports.api}")
    env["OPERATOR_TOKEN_SHA256"] = key_hash(env["OPERATOR_TOKEN"])  # the service keeps only the hash
    env["AWS_ENDPOINT_URL"] = f"http://{LOOPBACK}:{ports.aws}"
    env["TWILIO_API_BASE_URL"] = f"http://{LOOPBACK}:{ports.twilio}"
    env.setdefault("ORDER_WEBHOOK_URL", f"http://{LOOPBACK}:{ports.ordering}/orders")
    for name in ("TWILIO_REGION", "TWILIO_EDGE"):  # they would rewrite the simulator's host
        env.pop(name, None)
    return env
