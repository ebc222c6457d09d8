"""`make run`'s runner: SIGTERM stops everything it started; no token, no start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from local.stack import ROOT, wait_for
from tests.conftest import free_port
from tests.e2e.conftest import port_open


def start(env: dict[str, str], ports: list[int]) -> subprocess.Popen[str]:
    args = ["--api-port", str(ports[0]), "--aws-port", str(ports[1]), "--twilio-port", str(ports[2])]
    return subprocess.Popen(
        [sys.executable, "-m", "local.stack", "--no-demo", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_sigterm_stops_every_process_it_started() -> None:
    ports = [free_port(), free_port(), free_port()]
    process = start({**os.environ, "TWILIO_AUTH_TOKEN": "lifecycle-token"}, ports)
    wait_for(f"http://127.0.0.1:{ports[0]}/health", timeout_s=90, process=process)
    assert all(port_open(port) for port in ports)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Rapport local stack" in output and "stopped" in output
    assert not any(port_open(port) for port in ports)


def test_an_empty_auth_token_refuses_to_start() -> None:
    ports = [free_port(), free_port(), free_port()]
    process = start({**os.environ, "TWILIO_AUTH_TOKEN": ""}, ports)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "TWILIO_AUTH_TOKEN is empty" in output
    assert not any(port_open(port) for port in ports)
