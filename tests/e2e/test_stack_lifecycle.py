"""`make run`'s runner: SIGTERM stops everything it started; no token, no start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from local.stack import ROOT
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
    watchdog = threading.Timer(90, process.kill)  # a stack that never comes up fails, not hangs
    watchdog.start()
    assert process.stdout is not None
    banner = []
    for line in process.stdout:  # up to the banner's last line: everything is serving
        banner.append(line)
        if line.startswith("Ctrl-C or SIGTERM stops everything"):
            break
    watchdog.cancel()
    assert any(line.startswith("Rapport local stack") for line in banner)
    assert all(port_open(port) for port in ports)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert output.rstrip().endswith("stopped")
    assert not any(port_open(port) for port in ports)


def test_an_empty_auth_token_refuses_to_start() -> None:
    ports = [free_port(), free_port(), free_port()]
    process = start({**os.environ, "TWILIO_AUTH_TOKEN": ""}, ports)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "TWILIO_AUTH_TOKEN is empty" in output
    assert not any(port_open(port) for port in ports)
