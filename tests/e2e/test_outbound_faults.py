"""End to end: the outbound guarantees (issue 10) on the running stack: a slow
pace, two runs racing for one audience, Twilio down for a while (tests/e2e/outbound.py
holds the parts these scenarios share; the breaker and pause are in
test_outbound_pause.py, a killed sender in test_outbound_killed.py).

Twilio down for 10 minutes of a one-hour run runs AWS's and Twilio's clocks
scaled down (the same code, its timings set through the environment,
config.py): the outage, the run's relevance and the retries' backoff, 15 s
doubling up to 15 minutes, all divided by SCALE.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from chalicelib.domain.contact import DeliverabilityState
from chalicelib.services.send_text import PACE_MARGIN
from local.stack import stop_process
from tests.e2e.outbound import (
    RETRY_FIRST_S,
    RETRY_MAX_S,
    SCALE,
    OwnStack,
    accepted,
    audience,
    campaign,
    created,
    decisions,
    own_fixture,  # noqa: F401  (module scope: a stack of this module's own)
    per_phone,
    settled_run,
    start_runner,
    until,
    urls,
)
from tests.e2e.test_local_stack import handset

# --- pace -------------------------------------------------------------------


@pytest.mark.slow
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


def twilio_down_then_back(own: OwnStack, outage_s: float, count: int, wait_s: float, **spec: Any) -> str:
    """The simulator's Messages API answers 503 (Twilio's 20503 body) for `outage_s` from just before a
    run to `count` contacts starts; then back. Every text goes once, after it is back, before the run's
    deadline; retries are not counted as out; the numbers' deliverability is untouched. What happened."""
    stack = own.stack
    where = urls(stack)
    tag, phones = audience(where, count)
    down = requests.post(f"{where.sim}/sim/outage", json={"seconds": outage_s}, timeout=30).json()
    back_at = datetime.now(UTC) + timedelta(seconds=down["seconds_left"])
    try:
        promo = campaign(where, tag, mps=5, **spec)
        until(lambda: True if len(accepted(where, tag)) >= len(phones) else None, wait_s, what="every text after")
        run = settled_run(where, promo["id"], 30)
        refused = requests.get(f"{where.sim}/sim/outage", timeout=30).json()["refused"]
    finally:
        requests.post(f"{where.sim}/sim/outage", json={"seconds": 0}, timeout=30)
    time.sleep(2)
    texts = accepted(where, tag)
    assert refused >= len(phones), refused  # every text was tried while Twilio was down
    assert per_phone(texts) == dict.fromkeys(phones, 1)
    assert all(created(m) >= back_at - timedelta(seconds=0.5) for m in texts)
    deadline = datetime.fromisoformat(promo["send_at"]) + timedelta(hours=promo["relevance_hours"])
    assert all(created(m) < deadline for m in texts)
    counts = run["counts"]
    assert (counts["out"], counts.get("failed", 0), counts.get("unknown", 0)) == (len(phones), 0, 0)
    for phone in phones:
        assert [d["outcome"] for d in decisions(where, phone)] == ["sent"]
        contact = stack.store.get_contact(phone)
        assert contact is not None and contact.deliverability.state == DeliverabilityState.OK
        assert contact.deliverability.last_error_code is None  # 20503 says nothing about the number
    return f"outage {outage_s:.0f} s: {refused} calls refused; texts at +{[_after(back_at, m) for m in texts]} s"


@pytest.mark.slow
def test_twilio_down_for_a_while_then_back_every_text_goes_once(own: OwnStack) -> None:
    """Twilio down for 20 s from just before the run, then back: a short outage, a few retries per
    text. Hours of outage up to the deadline are covered on the fakes
    (tests/unit/test_runs.py::test_twilio_down_is_retried_with_capped_jittered_backoff_until_the_deadline)."""
    print(twilio_down_then_back(own, outage_s=20, count=4, wait_s=150))


@pytest.mark.slow
def test_twilio_down_for_ten_minutes_of_a_one_hour_run_every_text_goes_once_after(own: OwnStack) -> None:
    """The issue's scenario with every clock divided by SCALE: the simulator down for 10 minutes of a
    run whose texts are relevant for an hour. The sender retries after 15 s, 30 s, 1 min ... (capped at
    15 minutes, jittered over the upper half): six or seven tries a text, the last 0 to 15 minutes after
    Twilio is back; here 40 s of outage, a 4-minute relevance, retries from 1 s capped at 60 s."""
    assert (RETRY_FIRST_S * SCALE, RETRY_MAX_S * SCALE) == (15, 900)  # the real backoff, scaled
    scaled = twilio_down_then_back(
        own, outage_s=600 / SCALE, count=6, wait_s=40 * 60 / SCALE, relevance_hours=1 / SCALE
    )
    print(f"scaled 1/{SCALE}: {scaled}")


def _after(moment: datetime, message: dict[str, Any]) -> float:
    return round((created(message) - moment).total_seconds(), 1)
