"""The outbound scenarios' shared parts (test_outbound_faults.py, test_outbound_pause.py,
test_outbound_killed.py): each module runs on a stack of its own (`own`, or `bare` without
its runner), so that the three run side by side on the suite's workers.

They run on stacks of their own, not the session's: they measure time (pace,
retries, the breaker's texts), and the session's stack has grown by then.
What arrived is read from the Twilio simulator (`GET /sim/messages`: every
text its API accepted, timed to the microsecond), what the service decided
from the operator API.
"""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import boto3
import pytest
import requests

from chalicelib.domain.ledger import pending
from local.environment import Ports, stack_env
from local.stack import ROOT
from tests.conftest import REGION
from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack, running_stack
from tests.e2e.test_campaigns import person

T = TypeVar("T")
SEND_VISIBILITY_S = 720  # infra/resources.json SendQueue: what a killed sender's batch waits before it comes back
SCALE = 15  # Twilio's outage scenario: every clock divided by this
RETRY_FIRST_S, RETRY_MAX_S = 1, 60  # the backoff's 15 s and 900 s, scaled
SCALED_LEASE_S, SCALED_VISIBILITY_S = 8, 24  # the lease's 240 s and the visibility timeout's 720 s, divided by 30
BREAKER_MINIMUM_OUT = (
    40  # BREAKER_MINIMUM_OUT on this module's stack: texts out before the breaker may trip (200 in AWS)
)

_BLOCKS = itertools.count()


def numbers(count: int) -> list[str]:
    """Numbers no other test of the session uses (smart sending remembers a text for 24 hours)."""
    assert count <= 1000
    base = 447700960000 + next(_BLOCKS) * 1000
    return [f"+{base + i}" for i in range(count)]


def until(probe: Callable[[], T | None], timeout_s: float, every_s: float = 0.5, what: str = "") -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'nothing'} after {timeout_s:.0f}s")
        time.sleep(every_s)


@dataclass(frozen=True)
class OwnStack:
    stack: RunningStack
    runner_env: dict[str, str]  # the environment the stack gives its runner: more runners can be started with it


@contextlib.contextmanager
def own_stack(table: str, *flags: str, settings: dict[str, str] | None = None) -> Iterator[OwnStack]:
    """A stack of its own (tests/e2e/conftest.py), with the environment its runner gets."""
    with running_stack(table, *flags, settings=settings) as running:
        api_port, aws_port, twilio_port = running.ports
        runner_env = stack_env(Ports(api=api_port, aws=aws_port, twilio=twilio_port), running.env)  # as the stack does
        sqs = boto3.client("sqs", endpoint_url=running.aws, region_name=REGION)
        for name, queue in (("PLAN_QUEUE_URL", "plan"), ("SEND_QUEUE_URL", "send"), ("EVENTS_QUEUE_URL", "events")):
            runner_env[name] = sqs.get_queue_url(QueueName=f"rapport-local-{queue}")["QueueUrl"]
        yield OwnStack(running, runner_env)


@pytest.fixture(scope="module", name="own")
def own_fixture(request: pytest.FixtureRequest) -> Iterator[OwnStack]:
    """The stack for the requesting module, its runner's retry and breaker settings scaled down."""
    settings = {
        "SEND_RETRY_FIRST_SECONDS": str(RETRY_FIRST_S),
        "SEND_RETRY_MAX_SECONDS": str(RETRY_MAX_S),
        "BREAKER_MINIMUM_OUT": str(BREAKER_MINIMUM_OUT),
    }
    table = "rapport-e2e-" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    with own_stack(table, settings=settings) as started:
        yield started


@pytest.fixture(scope="module", name="bare")
def bare_fixture() -> Iterator[OwnStack]:
    """The stack without its runner: the test starts, kills and restarts runners (the stack stops
    every process when one of its own exits, so its runner cannot be killed and replaced). Its lease and
    the send queue's visibility timeout are scaled down (AWS's are 240 s and 720 s)."""
    visibility = ("--send-visibility-seconds", str(SCALED_VISIBILITY_S))
    lease = {"SEND_LEASE_SECONDS": str(SCALED_LEASE_S)}
    with own_stack("rapport-e2e-kill", "--no-runner", *visibility, settings=lease) as started:
        yield started


def api(base: str, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(
        method, f"{base}{path}", json=body, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=60
    )
    assert response.status_code < 300, response.text
    return response.json()


@dataclass(frozen=True)
class Urls:
    api: str
    sim: str


def urls(stack: RunningStack) -> Urls:
    return Urls(stack.api, stack.sim)


def audience(where: Urls, count: int) -> tuple[str, list[str]]:
    """`count` opted-in contacts near Leeds, in daytime, under a fresh tag."""
    tag = f"of-{uuid.uuid4().hex[:8]}"
    phones = numbers(count)
    for start in range(0, count, 500):  # the import takes at most 500 at once
        chunk = [person(phone, tag) for phone in phones[start : start + 500]]
        api(where.api, "POST", "/api/contacts", {"contacts": chunk})
    return tag, phones


def campaign(where: Urls, tag: str, mps: float, label: str = "", **spec: Any) -> dict[str, Any]:
    """A marketing campaign for the tag, due now; its text carries the tag (and label), so it can be found."""
    body = {
        "name": f"{label or 'promo'} {tag}",
        "message": f"Hi {{first_name|there}}, 2-for-1 pizzas tonight {label}[{tag}]",
        "audience": {"tags": [tag]},
        "location": {"name": "Leeds", "prefixes": ["LS"]},
        "send_at": datetime.now(UTC).isoformat(),
        "messages_per_second": mps,
        **spec,
    }
    created: dict[str, Any] = api(where.api, "POST", "/api/campaigns", body)
    return created


def run_of(where: Urls, campaign_id: str) -> dict[str, Any] | None:
    runs = api(where.api, "GET", f"/api/campaigns/{campaign_id}/runs")["runs"]
    return runs[0] if runs else None


def settled_run(where: Urls, campaign_id: str, timeout_s: float) -> dict[str, Any]:
    """The run once planned whole and nothing of it pending (every planned text sent, failed, unknown or dropped)."""

    def probe() -> dict[str, Any] | None:
        run = run_of(where, campaign_id)
        done = run is not None and len(run["shards_done"]) == run["shards"] and pending(run["counts"]) == 0
        return run if done else None

    return until(probe, timeout_s, what=f"run of {campaign_id} still pending")


def accepted(where: Urls, tag: str) -> list[dict[str, Any]]:
    """Every text of this tag the simulator's API accepted, oldest first."""
    messages = requests.get(f"{where.sim}/sim/messages", timeout=30).json()["messages"]
    return [m for m in messages if f"[{tag}]" in m["body"]]


def per_phone(messages: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in messages:
        counts[message["to"]] = counts.get(message["to"], 0) + 1
    return counts


def decisions(where: Urls, phone: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api(where.api, "GET", f"/api/contacts/{phone}/decisions")["decisions"]
    return found


def created(message: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(message["created"])


def start_runner(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A sender (and tick and planner): what a new Lambda container is for the queues."""
    return subprocess.Popen(
        [sys.executable, "-m", "local.runner", "--tick-seconds", "1"], cwd=ROOT, env=env, start_new_session=True
    )
