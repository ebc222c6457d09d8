"""Shared fixtures: one moto server per test session, a fresh table per test."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import boto3
import pytest

from local.schema import create_table
from local.stack import stop_process, wait_for

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "us-east-1"


def daytime_zone() -> str:
    """A zone where it is early afternoon now, so quiet hours never decide a test (or a benchmark)."""
    offset = (13 - datetime.now(UTC).hour + 12) % 24 - 12
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")  # Etc/GMT-5 is UTC+5


PORTS_FROM, PORTS_PER_WORKER = 20_000, 1_000  # below the system's range for outgoing connections (32768-60999)
_ports_tried = itertools.count(os.getpid() % PORTS_PER_WORKER)


def free_port() -> int:
    """A free loopback port for a server about to start, from this test worker's own
    range (PYTEST_XDIST_WORKER gw0, gw1 ...): a port found free is closed again
    before its server binds it, and one from the system's own range could meanwhile
    go to another worker's stack or to any outgoing connection."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    for _ in range(PORTS_PER_WORKER):
        port = PORTS_FROM + worker * PORTS_PER_WORKER + next(_ports_tried) % PORTS_PER_WORKER
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # taken (or a server of a test before this one still closing)
                continue
        return port
    raise RuntimeError(f"no free port in worker {worker}'s range")


class LoopbackServer:
    """An HTTP server on a free loopback port, serving from a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules with long scenarios first, then the rest of the end-to-end tests,
    then the quick ones, each module in its own order. Run in parallel (make test:
    pytest-xdist, `--dist loadfile`: a module on one worker, since some tests build
    on what an earlier one left), the quick modules fill the workers around the long ones."""
    slow_modules = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: (item.path not in slow_modules, "/e2e/" not in str(item.path)))


@pytest.fixture(scope="session", autouse=True)
def _aws_test_credentials() -> None:
    """Never let a test reach a real AWS account, whatever the shell has."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "TWILIO_REGION", "TWILIO_EDGE"):
        os.environ.pop(name, None)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.aws_emulator", "-H", "127.0.0.1", "-p", str(port), "--exit-with-parent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{endpoint}/moto-api/", process=process)
        yield endpoint
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def dynamodb(moto_endpoint: str) -> DynamoDBClient:
    return boto3.client(
        "dynamodb",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def table(dynamodb: DynamoDBClient) -> str:
    name = f"rapport-test-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb, name)
    return name
