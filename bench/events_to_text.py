"""events.to_text_ms: from an order event accepted by the API (its 202) to the
Twilio call that texts its update, on the local stack (`python -m local.stack`:
chalice local, the events queue on the AWS emulator, the Lambda runner, the
Twilio simulator), each event for its own customer. Two runs: events posted
SPACING_S apart (an update's own latency), then a burst of BURST at once
(the latency of the last in line: one local runner thread drains the queue,
where AWS runs up to five functions)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from bench._support import Figure, free_port, log
from local.stack import stop_process, wait_for

EVENTS = 20
SPACING_S = 0.5
BURST = 20
ADMIN = "bench-operator-token"
SENDER = "+441134960099"


def _call(method: str, url: str, key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.request(method, url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert response.status_code < 300, (url, response.status_code, response.text)
    answer: dict[str, Any] = response.json()
    return answer


def _texted_at(sim: str, phone: str) -> datetime | None:
    found = requests.get(f"{sim}/sim/messages", params={"to": phone}, timeout=30).json()["messages"]
    return datetime.fromisoformat(found[0]["created"]) if found else None


def run() -> list[Figure]:
    api_port, aws_port, twilio_port, ordering_port = (free_port() for _ in range(4))
    env = {**os.environ, "TWILIO_AUTH_TOKEN": "bench-token", "OPERATOR_TOKEN": ADMIN, "TABLE_NAME": "bench-events"}
    env.pop("PUBLIC_BASE_URL", None)
    ports = ["--api-port", str(api_port), "--aws-port", str(aws_port), "--twilio-port", str(twilio_port),
             "--ordering-port", str(ordering_port)]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "local.stack", "--no-demo", *ports],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api, sim = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{twilio_port}"
    try:
        wait_for(f"{sim}/health", timeout_s=90, process=process)
        wait_for(f"{api}/health", timeout_s=90, process=process)
        key = _call("POST", f"{api}/api/keys", ADMIN, {"name": "bench-orders", "role": "integration"})["key"]
        store = {"name": "Pizza Co Leeds", "time_zone": "Europe/London", "areas": ["LS"], "sender": SENDER,
                 "messages_per_second": 100}  # fmt: skip
        _call("PUT", f"{api}/api/stores/leeds", ADMIN, store)
        _call("PUT", f"{api}/api/order-texts/out_for_delivery", ADMIN, {"message": "{store_name}: on its way"})
        log(f"events: {EVENTS} order events {SPACING_S} s apart, then {BURST} at once, on the local stack")
        _latencies(api, sim, key, "warm", 1, 0.0)  # the runner's first event imports Twilio's client: coldstart.*
        spaced = _latencies(api, sim, key, "spaced", EVENTS, SPACING_S)
        burst = _latencies(api, sim, key, "burst", BURST, 0.0)
    finally:
        stop_process(process)
    return [
        (
            "events.to_text_ms_p50",
            statistics.median(spaced),
            f"ms (accepted -> Twilio call, {SPACING_S} s apart)",
        ),
        ("events.to_text_ms_p95", _p95(spaced), "ms (target at most 2000)"),
        ("events.to_text_ms_p95_burst", _p95(burst), f"ms ({BURST} posted at once, one local consumer)"),
    ]


def _p95(waits: list[float]) -> float:
    return sorted(waits)[int(0.95 * (len(waits) - 1))]


def _latencies(api: str, sim: str, key: str, name: str, count: int, spacing_s: float) -> list[float]:
    accepted: dict[str, datetime] = {}
    for n in range(count):
        phone = f"+4477009{len(name):01d}{n:04d}"
        event = {"id": f"evt_{name}_{n}", "type": "out_for_delivery", "order_id": f"ord_{name}_{n}",
                 "phone": phone, "store_id": "leeds", "at": datetime.now(UTC).isoformat(),
                 "total": {"amount": 1899, "currency": "GBP"}, "channel": "app"}  # fmt: skip
        _call("POST", f"{api}/api/events", key, event)
        accepted[phone] = datetime.now(UTC)
        time.sleep(spacing_s)
    deadline = time.monotonic() + 120
    texted: dict[str, datetime] = {}
    while len(texted) < count and time.monotonic() < deadline:
        for phone in accepted.keys() - texted.keys():
            if (at := _texted_at(sim, phone)) is not None:
                texted[phone] = at
        time.sleep(0.2)
    assert len(texted) == count, f"{count - len(texted)} updates never texted"
    # the simulator's time is when Twilio's API took the call; clamp the clocks' sub-ms disagreement at 0
    return [max(timedelta(0), texted[phone] - accepted[phone]).total_seconds() * 1000 for phone in accepted]
