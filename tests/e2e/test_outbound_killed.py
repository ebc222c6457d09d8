"""End to end: a sender killed in the middle of a Twilio call, then a new one:
every text once. AWS's clocks run scaled down (the same code, its timings set
through the environment, config.py): SQS's 720 s visibility timeout and the
4-minute lease become SCALED_VISIBILITY_S and SCALED_LEASE_S (the stack and
helpers: tests/e2e/outbound.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta

import boto3
import pytest
import requests

from chalicelib.domain.ledger import LEASE
from local.stack import stop_process
from tests.conftest import REGION
from tests.e2e.outbound import (
    SCALED_LEASE_S,
    SCALED_VISIBILITY_S,
    SEND_VISIBILITY_S,
    OwnStack,
    accepted,
    audience,
    bare_fixture,  # noqa: F401  (module scope: a stack of this module's own)
    campaign,
    decisions,
    per_phone,
    run_of,
    settled_run,
    start_runner,
    until,
    urls,
)

# --- a sender killed mid-run ----------------------------------------------------------


@pytest.mark.slow
def test_a_sender_killed_in_a_twilio_call_and_restarted_sends_every_text_once(bare: OwnStack) -> None:
    """The runner is SIGKILLed while its sender is inside a Twilio call that Twilio has taken (the
    simulator holds its answer back: POST /sim/slow), then a new runner starts.

    What follows is AWS's timing, scaled down: the dead sender's batch (the text in the call and the
    texts waiting for their slots) comes back only after the send queue's visibility timeout (720 s in
    AWS, six times the function's timeout; SCALED_VISIBILITY_S here); by then the text in the call is
    past its lease (4 minutes; SCALED_LEASE_S), so it is reconciled against Twilio's list of messages
    (found: recorded, not resent), and the others are sent. Texts not yet received by the dead runner
    go at once from the new one."""
    where = urls(bare.stack)
    sqs = boto3.client("sqs", endpoint_url=bare.stack.aws, region_name=REGION)
    visibility = sqs.get_queue_attributes(QueueUrl=bare.runner_env["SEND_QUEUE_URL"], AttributeNames=["All"])
    assert int(visibility["Attributes"]["VisibilityTimeout"]) == SCALED_VISIBILITY_S
    assert timedelta(seconds=SEND_VISIBILITY_S) > LEASE  # the design this test relies on, in AWS ...
    assert SEND_VISIBILITY_S / LEASE.total_seconds() == SCALED_VISIBILITY_S / SCALED_LEASE_S  # ... and here
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
        run = settled_run(where, promo["id"], SCALED_VISIBILITY_S + 180)
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
    [stored] = [m for m in bare.stack.store.messages.thread(victim) if m.sid == in_call["sid"]]
    assert stored.run_id == run["id"] and stored.status == "delivered"  # the callbacks that came first kept
    print(f"killed in a Twilio call: every text once, {took:.0f} s after the kill")
