"""End to end: the outbound guarantees (issue 10) on the running stack.

Every planned text is sent once or accounted for, whatever goes wrong: a slow
pace, two runs racing for one audience, the circuit breaker and a resume,
Twilio down for a while, a sender killed in the middle of a Twilio call.
What arrived is read from the Twilio simulator (`GET /sim/messages`: every
text its API accepted, timed to the microsecond), what the service decided
from the operator API.

They run on a stack of their own (`own`), not the session's: they measure
time (pace, retries, the breaker's 200 texts), and the session's stack has
grown slow by then. moto copies a whole table for every TransactWriteItems
(a claim, a settle), so after the other e2e tests (5,000 STOP/START flips
among them) each text costs seconds and API calls take up to ten.

Two tests cannot fit the suite's time and run only with RAPPORT_SLOW_E2E=1
(each says why): a sender killed and restarted (~14 minutes, SQS's
visibility timeout) and the held rest going at the hourly re-check after a
resume (~65 minutes).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
import pytest
import requests

from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.domain.contact import DeliverabilityState
from chalicelib.domain.ledger import LEASE, pending
from chalicelib.domain.policy import PolicySettings
from chalicelib.domain.runs import BreakerSettings
from chalicelib.services.sending import PACE_MARGIN
from local.stack import ROOT, Ports, stack_env, stop_process, wait_for
from tests.conftest import REGION, free_port
from tests.e2e.conftest import ACCOUNT_SID, OPERATOR_TOKEN, TOKEN, RunningStack
from tests.e2e.test_campaigns import person
from tests.e2e.test_local_stack import handset, text

T = TypeVar("T")
SLOW = os.environ.get("RAPPORT_SLOW_E2E") == "1"
SLOW_REASON = "takes {}: run with RAPPORT_SLOW_E2E=1"
SEND_VISIBILITY_S = 720  # infra/resources.json SendQueue: what a killed sender's batch waits before it comes back

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
def own_stack(table: str, *flags: str) -> Iterator[OwnStack]:
    """`python -m local.stack` on free ports (as tests/e2e/conftest.py starts the session's)."""
    api_port, aws_port, twilio_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TABLE_NAME": table,
        "BRAND_NAME": "Pizza Co",
        "OPERATOR_TOKEN": OPERATOR_TOKEN,
    }
    env.pop("PUBLIC_BASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable, "-m", "local.stack", "--no-demo", *flags,
            "--api-port", str(api_port), "--aws-port", str(aws_port), "--twilio-port", str(twilio_port),
            "--tick-seconds", "1",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    api_url, sim, aws = (f"http://127.0.0.1:{p}" for p in (api_port, twilio_port, aws_port))
    try:
        wait_for(f"{sim}/health", timeout_s=90, process=process)
        wait_for(f"{api_url}/health", timeout_s=90, process=process)
        runner_env = stack_env(Ports(api=api_port, aws=aws_port, twilio=twilio_port), env)  # as the stack builds it
        sqs = boto3.client("sqs", endpoint_url=aws, region_name=REGION)
        for name, queue in (("PLAN_QUEUE_URL", "plan"), ("SEND_QUEUE_URL", "send")):
            runner_env[name] = sqs.get_queue_url(QueueName=f"rapport-local-{queue}")["QueueUrl"]
        dynamodb = boto3.client("dynamodb", endpoint_url=aws, region_name=REGION)
        store = DynamoConversationStore(dynamodb, table)
        running = RunningStack(api_url, sim, aws, (api_port, aws_port, twilio_port), store, process)
        yield OwnStack(running, runner_env)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def own() -> Iterator[OwnStack]:
    with own_stack("rapport-e2e-outbound") as started:
        yield started


@pytest.fixture(scope="module")
def bare() -> Iterator[OwnStack]:
    """The stack without its runner: the test starts, kills and restarts runners (the stack stops
    every process when one of its own exits, so its runner cannot be killed and replaced)."""
    with own_stack("rapport-e2e-kill", "--no-runner") as started:
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


# --- pace -------------------------------------------------------------------


def test_a_run_at_half_a_message_per_second_is_paced_and_sends_each_text_once(own: OwnStack) -> None:
    """0.5 MPS (below a long code's 1): the texts reach Twilio at least 1/MPS apart, one each."""
    stack = own.stack
    where = urls(stack)
    tag, phones = audience(where, 4)
    promo = campaign(where, tag, mps=0.5)

    texts = until(lambda: accepted(where, tag) if len(accepted(where, tag)) >= 4 else None, 90, what="4 texts")
    run = settled_run(where, promo["id"], 30)
    time.sleep(2)  # anything sent twice would be here by now
    texts = accepted(where, tag)
    assert per_phone(texts) == dict.fromkeys(phones, 1)
    assert all(handset(stack, phone) == [texts[0]["body"]] for phone in phones)

    interval = PACE_MARGIN / 0.5
    gaps = [(created(b) - created(a)).total_seconds() for a, b in itertools.pairwise(texts)]
    print(f"0.5 MPS: gaps at Twilio {[round(g, 3) for g in gaps]} s (pace {interval:.2f} s)")
    assert min(gaps) >= interval - 0.1, gaps  # never faster than the pace (0.1 s: an HTTP call's jitter)
    # Not slower than two slots a text. On moto each text takes two slots (see the report with this test's
    # commit): the claim (a TransactWriteItems, 100-250 ms on moto) outlasts the 70 ms the sender allows
    # between its slot and the Twilio call, so `_keep_slot` takes the next slot.
    assert max(gaps) <= 2 * interval + 0.5, gaps
    assert run["counts"]["out"] == 4 and run["counts"]["planned"] == 4
    for phone in phones:
        [decision] = decisions(where, phone)
        sent = next(m for m in texts if m["to"] == phone)
        assert (decision["outcome"], decision["sid"]) == ("sent", sent["sid"])


# --- a race -------------------------------------------------------------------


def test_two_campaigns_to_one_audience_at_the_same_minute_send_each_contact_one_text(own: OwnStack) -> None:
    """Both runs start in the same tick and send at once; smart sending allows one marketing text a day:
    each contact gets one, the other run's decision for them is a drop (smart_sending when the two
    met at the claim, expired when the second saw the first's text: held past its deadline)."""
    where = urls(own.stack)
    tag, phones = audience(where, 8)
    other_sender = start_runner(own.runner_env)  # two senders at once, as concurrent Lambdas (two ticks too)
    try:
        send_at = datetime.now(UTC).isoformat()
        first = campaign(where, tag, mps=20, label="A", send_at=send_at)
        second = campaign(where, tag, mps=20, label="B", send_at=send_at)
        runs = [settled_run(where, c["id"], 90) for c in (first, second)]
    finally:
        stop_process(other_sender)
    time.sleep(2)
    texts = accepted(where, tag)
    assert per_phone(texts) == dict.fromkeys(phones, 1)
    assert sum(run["counts"].get("out", 0) for run in runs) == len(phones)
    reasons = []
    for phone in phones:
        made = {d["run_id"]: d for d in decisions(where, phone)}
        assert set(made) == {run["id"] for run in runs}, made
        sent = [d for d in made.values() if d.get("outcome") == "sent"]
        dropped = [d for d in made.values() if d["verdict"] == "drop"]
        assert len(sent) == 1 and len(dropped) == 1, made
        assert dropped[0]["reason"] in ("smart_sending", "expired"), dropped
        assert sent[0]["sid"] == next(m["sid"] for m in texts if m["to"] == phone)
        reasons.append(f"{dropped[0]['reason']}@{dropped[0]['stage']}")
    print("the other run's drops:", sorted(reasons))


# --- Twilio down ----------------------------------------------------------------


def test_twilio_down_for_a_while_then_back_every_text_goes_once(own: OwnStack) -> None:
    """The simulator's Messages API answers 503 (Twilio's 20503 body) for 20 s from just before the run.

    The issue asks for Twilio down for 10 minutes of a 1-hour-deadline run. Scaled down for the suite's
    time: the sender retries after 15 s, 30 s, 1 min ... (capped at 15 minutes, jittered over the upper
    half), so a 10-minute outage takes 10 to 25 minutes to drain; 20 s needs one or two retries per text,
    which is the same path (retry, not counted as out, the number's deliverability untouched, sent once
    when Twilio is back). Hours of outage up to the deadline are covered on the fakes
    (tests/unit/test_runs.py::test_twilio_down_is_retried_with_capped_jittered_backoff_until_the_deadline)."""
    stack = own.stack
    where = urls(stack)
    tag, phones = audience(where, 4)
    outage_s = 20
    down = requests.post(f"{where.sim}/sim/outage", json={"seconds": outage_s}, timeout=30).json()
    back_at = datetime.now(UTC) + timedelta(seconds=down["seconds_left"])
    try:
        promo = campaign(where, tag, mps=5)
        until(lambda: True if len(accepted(where, tag)) >= len(phones) else None, 150, what="every text after")
        run = settled_run(where, promo["id"], 30)
        refused = requests.get(f"{where.sim}/sim/outage", timeout=30).json()["refused"]
    finally:
        requests.post(f"{where.sim}/sim/outage", json={"seconds": 0}, timeout=30)
    time.sleep(2)
    texts = accepted(where, tag)
    assert refused >= len(phones), refused  # every text was tried while Twilio was down
    assert per_phone(texts) == dict.fromkeys(phones, 1)
    assert all(created(m) >= back_at - timedelta(seconds=0.5) for m in texts)
    counts = run["counts"]
    assert (counts["out"], counts.get("failed", 0), counts.get("unknown", 0)) == (len(phones), 0, 0)
    for phone in phones:
        assert [d["outcome"] for d in decisions(where, phone)] == ["sent"]
        contact = stack.store.get_contact(phone)
        assert contact is not None and contact.deliverability.state == DeliverabilityState.OK
        assert contact.deliverability.last_error_code is None  # 20503 says nothing about the number
    print(f"outage {outage_s} s: {refused} calls refused; texts at +{[_after(back_at, m) for m in texts]} s")


def _after(moment: datetime, message: dict[str, Any]) -> float:
    return round((created(message) - moment).total_seconds(), 1)


# --- the circuit breaker, pause and resume ---------------------------------------------


def trip_the_breaker(stack: RunningStack) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """A run to minimum_out + 30 contacts at 50 MPS; six of the first recipients text STOP. At
    minimum_out (200) texts out, 6 opt-outs are 3% > 2%: the breaker pauses the campaign, the rest is
    held. (minimum_out cannot be lowered from the environment: BreakerSettings is the code's default.)"""
    where = urls(stack)
    minimum = BreakerSettings().minimum_out
    tag, phones = audience(where, minimum + 30)
    promo = campaign(where, tag, mps=50)
    stopped: list[str] = []

    def tripped() -> dict[str, Any] | None:
        for message in accepted(where, tag)[:12]:
            if len(stopped) == 6:
                break
            recorded = decisions(where, message["to"])[0].get("outcome") == "sent"  # so the STOP counts for the run
            if recorded and message["to"] not in stopped:
                text(stack, message["to"], "STOP")
                stopped.append(message["to"])
        run = run_of(where, promo["id"])
        return run if run is not None and run["breaker"] else None

    run = until(tripped, 300, every_s=1, what="the breaker")
    assert len(stopped) == 6
    return promo, run, phones


def test_the_breaker_trips_on_opt_outs_holds_the_rest_and_resume_clears_it(own: OwnStack) -> None:
    """Breaker trip → resume. The rest of the run is held for the re-check (PolicySettings.recheck_after,
    1 hour) and resume does not release it: that it then goes is the slow test below."""
    where = urls(own.stack)
    promo, run, phones = trip_the_breaker(own.stack)
    minimum = BreakerSettings().minimum_out
    assert run["breaker"].startswith("circuit breaker: 6 opt-outs in")
    paused = api(where.api, "GET", f"/api/campaigns/{promo['id']}")
    assert (paused["status"], paused["paused_reason"]) == ("paused", run["breaker"])

    def all_accounted() -> list[dict[str, Any]] | None:
        latest = [decisions(where, phone)[0] for phone in phones]
        return latest if all(d["stage"] == "at_send" for d in latest) else None

    latest = until(all_accounted, 60, every_s=1, what="a decision at send time for everyone")
    texts = accepted(where, tag_of(promo))
    held = [d for d in latest if d["verdict"] == "hold"]
    assert per_phone(texts) == {d["phone"]: 1 for d in latest if d.get("outcome") == "sent"}
    assert len(texts) >= minimum and len(texts) + len(held) == len(phones)
    assert {d["reason"] for d in held} == {"campaign_paused"}
    recheck = PolicySettings().recheck_after
    for d in held:
        assert timedelta(0) < datetime.fromisoformat(d["until"]) - datetime.fromisoformat(d["at"]) <= recheck
    counts = api(where.api, "GET", f"/api/campaigns/{promo['id']}/runs")["runs"][0]["counts"]
    assert counts["out"] == len(texts) and pending(counts) == len(held)  # planned = out + pending

    resumed = api(where.api, "POST", f"/api/campaigns/{promo['id']}/resume")
    assert (resumed["status"], resumed["paused_reason"]) == ("active", None)
    after = run_of(where, promo["id"])
    assert after is not None and (after["breaker"], after["resumed"]) == (None, True)
    time.sleep(3)  # the held texts wait for their re-check: nothing more goes now, nothing twice
    assert len(accepted(where, tag_of(promo))) == len(texts)
    print(f"breaker: tripped at {counts['out']} out, {len(held)} held until the re-check ({recheck})")


def tag_of(promo: dict[str, Any]) -> str:
    tags: list[str] = promo["audience"]["tags"]
    return tags[0]


@pytest.mark.skipif(not SLOW, reason=SLOW_REASON.format("about 65 minutes (the hourly re-check of held texts)"))
def test_after_a_resume_the_held_rest_goes_at_the_hourly_recheck(own: OwnStack) -> None:
    """Breaker trip → resume → the rest goes; and an operator's pause → resume → the held texts go.

    Held texts of a paused run are looked at again after PolicySettings.recheck_after (1 hour): a
    resume clears the pause and the breaker but does not release them sooner, so this waits an hour."""
    where = urls(own.stack)
    promo, _, phones = trip_the_breaker(own.stack)
    api(where.api, "POST", f"/api/campaigns/{promo['id']}/resume")

    tag, paused_phones = audience(where, 14)  # more than one batch of 10: a pause reaches the next batch
    paused = campaign(where, tag, mps=0.5)
    until(lambda: True if len(accepted(where, tag)) >= 2 else None, 60, what="the first texts")
    api(where.api, "POST", f"/api/campaigns/{paused['id']}/pause")

    def some_held() -> list[str] | None:
        latest = [(phone, decisions(where, phone)[:1]) for phone in paused_phones]
        return [phone for phone, d in latest if d and d[0]["verdict"] == "hold"] or None

    held = until(some_held, 120, what="a held text")
    api(where.api, "POST", f"/api/campaigns/{paused['id']}/resume")
    print(f"operator pause: {len(held)} held, {len(accepted(where, tag))} sent")

    wait_s = PolicySettings().recheck_after.total_seconds() + 300
    for c, audience_phones in ((promo, phones), (paused, paused_phones)):
        settled_run(where, c["id"], wait_s)
        texts = accepted(where, tag_of(c))
        assert per_phone(texts) == dict.fromkeys(audience_phones, 1)


# --- a sender killed mid-run ----------------------------------------------------------


def start_runner(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A sender (and tick and planner): what a new Lambda container is for the queues."""
    return subprocess.Popen(
        [sys.executable, "-m", "local.runner", "--tick-seconds", "1"], cwd=ROOT, env=env, start_new_session=True
    )


@pytest.mark.skipif(not SLOW, reason=SLOW_REASON.format("about 14 minutes (SQS's 12-minute visibility timeout)"))
def test_a_sender_killed_in_a_twilio_call_and_restarted_sends_every_text_once(bare: OwnStack) -> None:
    """The runner is SIGKILLed while its sender is inside a Twilio call that Twilio has taken (the
    simulator holds its answer back: POST /sim/slow), then a new runner starts.

    What follows is AWS's timing, not a test's: the dead sender's batch (the text in the call and the
    texts waiting for their slots) comes back only after the send queue's visibility timeout (720 s,
    six times the function's timeout); by then the text in the call is past its 4-minute lease, so it
    is reconciled against Twilio's list of messages (found: recorded, not resent), and the others are
    sent. Texts not yet received by the dead runner go at once from the new one. Hence ~14 minutes."""
    where = urls(bare.stack)
    sqs = boto3.client("sqs", endpoint_url=bare.stack.aws, region_name=REGION)
    visibility = sqs.get_queue_attributes(QueueUrl=bare.runner_env["SEND_QUEUE_URL"], AttributeNames=["All"])
    assert int(visibility["Attributes"]["VisibilityTimeout"]) == SEND_VISIBILITY_S
    assert timedelta(seconds=SEND_VISIBILITY_S) > LEASE  # the design this test relies on
    tag, phones = audience(where, 6)
    first = start_runner(bare.runner_env)
    second: subprocess.Popen[bytes] | None = None
    try:
        requests.post(f"{where.sim}/sim/slow", json={"seconds": 30, "to": phones, "count": 1}, timeout=30)
        promo = campaign(where, tag, mps=0.2)
        [in_call] = until(lambda: accepted(where, tag) or None, 90, every_s=0.05, what="the first text")
        # every shard planned first: a plan job in the dead runner's hands would come back only after
        # the plan queue's visibility timeout (90 minutes). The sender's read times out after 10 s.
        until(lambda: True if (r := run_of(where, promo["id"])) and len(r["shards_done"]) == r["shards"] else None, 7)
        assert len(accepted(where, tag)) == 1
        os.kill(first.pid, signal.SIGKILL)  # Twilio has the text; its answer is held back 30 s
        killed_at = time.monotonic()
        first.wait(timeout=10)
        victim = in_call["to"]
        [entry] = decisions(where, victim)
        assert entry["stage"] == "planned"  # nothing recorded: the sender died in the call
        second = start_runner(bare.runner_env)
        run = settled_run(where, promo["id"], SEND_VISIBILITY_S + 180)
        took = time.monotonic() - killed_at
    finally:
        for runner in (first, second):
            if runner is not None:
                stop_process(runner)
    time.sleep(2)
    texts = accepted(where, tag)
    assert per_phone(texts) == dict.fromkeys(phones, 1)  # the text in the call was not sent again
    assert (run["counts"]["out"], run["counts"].get("unknown", 0)) == (len(phones), 0)
    [decision] = decisions(where, victim)
    assert (decision["outcome"], decision["sid"]) == ("sent", in_call["sid"])  # reconciled from Twilio's list
    [stored] = [m for m in bare.stack.store.thread(victim) if m.sid == in_call["sid"]]
    assert stored.run_id == run["id"] and stored.status == "delivered"  # the callbacks that came first kept
    print(f"killed in a Twilio call: every text once, {took:.0f} s after the kill")
