"""End to end: the circuit breaker trips on opt-outs and holds the rest; an
operator's pause holds a run; a resume sends what was held, once each (the
stack and helpers: tests/e2e/outbound.py)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.ledger import pending
from chalicelib.domain.policy import PolicySettings
from tests.e2e.conftest import RunningStack
from tests.e2e.outbound import (
    BREAKER_MINIMUM_OUT,
    OwnStack,
    Urls,
    accepted,
    api,
    audience,
    campaign,
    decisions,
    own_fixture,  # noqa: F401  (module scope: a stack of this module's own)
    per_phone,
    run_of,
    settled_run,
    until,
    urls,
)
from tests.e2e.test_local_stack import text

# --- the circuit breaker, pause and resume ---------------------------------------------


def trip_the_breaker(stack: RunningStack) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """A run to minimum_out + 30 contacts at 10 MPS; six of the first recipients text STOP. At
    minimum_out (BREAKER_MINIMUM_OUT, 40 here) texts out, 6 opt-outs are 15% > 2%: the breaker pauses
    the campaign, the rest is held."""
    where = urls(stack)
    minimum = BREAKER_MINIMUM_OUT
    tag, phones = audience(where, minimum + 30)
    promo = campaign(where, tag, mps=10)
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


RESUMED_WITHIN_S = 120  # a resume files the held texts under this minute; the tick releases it once past


@pytest.mark.slow
def test_the_breaker_trips_on_opt_outs_holds_the_rest_and_resume_sends_it(own: OwnStack) -> None:
    """Breaker trip → resume → the rest goes: within a minute or two of the resume, once each."""
    where = urls(own.stack)
    promo, run, phones = trip_the_breaker(own.stack)
    minimum = BREAKER_MINIMUM_OUT
    assert run["breaker"].startswith("circuit breaker: 6 opt-outs in")

    def campaign_paused() -> dict[str, Any] | None:
        found: dict[str, Any] = api(where.api, "GET", f"/api/campaigns/{promo['id']}")
        return found if found["status"] == "paused" else None

    # the sender trips the run's breaker, then pauses the campaign: two writes, one after the other
    paused = until(campaign_paused, 30, what="the campaign paused by the breaker")
    assert paused["paused_reason"] == run["breaker"]

    latest = all_decided_at_send(where, phones)
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

    took = resume_and_wait(where, promo, phones)
    after = run_of(where, promo["id"])
    assert after is not None and (after["breaker"], after["resumed"]) == (None, True)
    assert after["counts"]["out"] == len(phones) and pending(after["counts"]) == 0
    print(f"breaker: tripped at {counts['out']} out; {len(held)} held went {took:.0f} s after the resume")


@pytest.mark.slow
def test_an_operators_pause_then_resume_sends_the_held_texts_within_minutes(own: OwnStack) -> None:
    """An operator pauses a run in the middle (the pause reaches the sender's next batch of 10, so more
    than 10 contacts), then resumes it: the held texts go within a minute or two, once each."""
    where = urls(own.stack)
    tag, phones = audience(where, 14)
    paused = campaign(where, tag, mps=0.5)
    until(lambda: True if len(accepted(where, tag)) >= 2 else None, 60, what="the first texts")
    api(where.api, "POST", f"/api/campaigns/{paused['id']}/pause")
    latest = all_decided_at_send(where, phones, timeout_s=120)
    held = [d["phone"] for d in latest if d["verdict"] == "hold"]
    assert held and {d["reason"] for d in latest if d["verdict"] == "hold"} == {"campaign_paused"}
    took = resume_and_wait(where, paused, phones)
    print(f"operator pause: {len(held)} held, sent {took:.0f} s after the resume")


def all_decided_at_send(where: Urls, phones: list[str], timeout_s: float = 60) -> list[dict[str, Any]]:
    """Each contact's latest decision once every one of them was decided again at send time."""

    def probe() -> list[dict[str, Any]] | None:
        latest = [decisions(where, phone)[0] for phone in phones]
        return latest if all(d["stage"] == "at_send" for d in latest) else None

    return until(probe, timeout_s, every_s=1, what="a decision at send time for everyone")


def resume_and_wait(where: Urls, promo: dict[str, Any], phones: list[str]) -> float:
    """Resume; every contact then has its one text within RESUMED_WITHIN_S. How long it took."""
    resumed = api(where.api, "POST", f"/api/campaigns/{promo['id']}/resume")
    assert (resumed["status"], resumed["paused_reason"]) == ("active", None)
    started = time.monotonic()
    settled_run(where, promo["id"], RESUMED_WITHIN_S)
    took = time.monotonic() - started
    time.sleep(2)  # anything sent twice would be here by now
    assert per_phone(accepted(where, tag_of(promo))) == dict.fromkeys(phones, 1)
    return took


def tag_of(promo: dict[str, Any]) -> str:
    tags: list[str] = promo["audience"]["tags"]
    return tags[0]
