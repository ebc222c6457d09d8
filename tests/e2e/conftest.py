"""The whole local stack (`python -m local.stack`) on free ports, driven over HTTP."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import boto3
import pytest

from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from local.stack import ROOT, wait_for
from tests.conftest import REGION, free_port

TOKEN = "e2e-auth-token"
OPERATOR_TOKEN = "e2e-operator-token"
ACCOUNT_SID = "AC" + "e2" * 16


@dataclass(frozen=True)
class RunningStack:
    api: str
    sim: str
    aws: str
    ports: tuple[int, int, int]
    store: DynamoConversationStore
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)  # what the stack was started with
    ordering: str = ""  # the ordering-system simulator (local/ordering_sim.py)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running_stack(
    table: str, *flags: str, tick_seconds: float | None = 1, settings: Mapping[str, str] | None = None
) -> Iterator[RunningStack]:
    """`python -m local.stack --no-demo` on free ports, its own table, until the block ends (SIGTERM).
    `flags`: more of the stack's options (`--no-runner`); `tick_seconds`: the schedule's period
    (None: the stack's default, a minute); `settings`: more of the service's environment
    (the send path's clocks scaled down, config.py)."""
    api_port, aws_port, twilio_port, ordering_port = free_port(), free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TABLE_NAME": table,
        "BRAND_NAME": "Pizza Co",
        "OPERATOR_TOKEN": OPERATOR_TOKEN,
        "ORDER_WEBHOOK_URL": f"http://127.0.0.1:{ordering_port}/orders",
        **(settings or {}),
    }
    env.pop("PUBLIC_BASE_URL", None)
    tick = [] if tick_seconds is None else ["--tick-seconds", str(tick_seconds)]
    process = subprocess.Popen(
        [
            sys.executable, "-m", "local.stack", "--no-demo", *flags,
            "--api-port", str(api_port), "--aws-port", str(aws_port), "--twilio-port", str(twilio_port),
            "--ordering-port", str(ordering_port), *tick,
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    api, sim, aws = (f"http://127.0.0.1:{p}" for p in (api_port, twilio_port, aws_port))
    try:
        wait_for(f"{sim}/health", timeout_s=90, process=process)
        wait_for(f"{api}/health", timeout_s=90, process=process)
        client = boto3.client("dynamodb", endpoint_url=aws, region_name=REGION)
        store = DynamoConversationStore(client, table)
        ordering = f"http://127.0.0.1:{ordering_port}"
        yield RunningStack(api, sim, aws, (api_port, aws_port, twilio_port), store, process, env, ordering)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    with running_stack("rapport-e2e") as started:
        yield started


# The browser tests' fixtures, shared by every tests/e2e/test_console*.py.
from tests.e2e.browser import browser, keys  # noqa: E402, F401
