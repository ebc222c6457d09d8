"""`make run`'s runner: SIGTERM, SIGINT or SIGHUP, to it or to its whole
process group (as `timeout`, CI and process managers send it, sometimes more
than once), stops everything it started within 15 s; no token, no start.
And the AWS emulator it runs: requests serialised, long polls still live."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from local.stack import ROOT
from tests.conftest import REGION, free_port
from tests.e2e.conftest import port_open

STOPPED_WITHIN_S = 15.0


def start(env: dict[str, str], ports: list[int], own_group: bool = False) -> subprocess.Popen[str]:
    args = ["--api-port", str(ports[0]), "--aws-port", str(ports[1]), "--twilio-port", str(ports[2])]
    args += ["--ordering-port", str(ports[3])]
    return subprocess.Popen(
        [sys.executable, "-m", "local.stack", "--no-demo", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=own_group,  # a group of its own, as a terminal or process manager gives it
    )


def read_banner(process: subprocess.Popen[str]) -> list[str]:
    """Its output up to the banner's last line: everything is serving then."""
    watchdog = threading.Timer(90, process.kill)  # a stack that never comes up fails, not hangs
    watchdog.start()
    assert process.stdout is not None
    banner = []
    for line in process.stdout:
        banner.append(line)
        if line.startswith("Ctrl-C or SIGTERM stops everything"):
            break
    watchdog.cancel()
    assert any(line.startswith("Rapport local stack") for line in banner), "".join(banner)
    return banner


def drain(process: subprocess.Popen[str]) -> list[str]:
    """The rest of its output, read on a thread (the children share the pipe)."""
    lines: list[str] = []
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.extend(stdout), daemon=True).start()
    return lines


def descendants(root: int) -> set[int]:
    """Every process below `root`, from /proc (children in their own sessions included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Running or stopped, not a zombie (a zombie holds no port and runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_sigterm_stops_every_process_it_started() -> None:
    ports = [free_port(), free_port(), free_port(), free_port()]
    process = start({**os.environ, "TWILIO_AUTH_TOKEN": "lifecycle-token"}, ports)
    read_banner(process)
    assert all(port_open(port) for port in ports)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert output.rstrip().endswith("stopped")
    assert not any(port_open(port) for port in ports)


@pytest.mark.parametrize(
    ("signum", "times"),
    [(signal.SIGTERM, 1), (signal.SIGINT, 1), (signal.SIGTERM, 3)],
    ids=["SIGTERM", "SIGINT", "SIGTERM-repeated"],
)
def test_a_signal_to_the_whole_process_group_stops_everything_within_15_s(signum: int, times: int) -> None:
    ports = [free_port(), free_port(), free_port(), free_port()]
    process = start({**os.environ, "TWILIO_AUTH_TOKEN": "lifecycle-token"}, ports, own_group=True)
    try:
        banner = read_banner(process)
        children = {int(pid) for pid in re.findall(r"\(pid (\d+)\)", "".join(banner))}
        assert len(children) == 3  # moto, chalice local, the runner
        children |= descendants(process.pid)
        assert all(port_open(port) for port in ports)
        rest = drain(process)

        signalled = time.monotonic()
        for _ in range(times):  # `timeout` and process managers may signal again while it stops
            os.killpg(process.pid, signum)
            time.sleep(0.3)
        deadline = signalled + STOPPED_WITHIN_S
        while time.monotonic() < deadline and (
            process.poll() is None or any(map(port_open, ports)) or any(map(alive, children))
        ):
            time.sleep(0.2)

        assert process.poll() == 0, "".join(rest)
        assert [port for port in ports if port_open(port)] == []
        assert [pid for pid in children if alive(pid)] == []
        assert rest and rest[-1].rstrip() == "stopped"
    finally:  # never leave a stack behind, whatever failed
        for pid in [process.pid, *descendants(process.pid)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_an_empty_auth_token_refuses_to_start() -> None:
    ports = [free_port(), free_port(), free_port(), free_port()]
    process = start({**os.environ, "TWILIO_AUTH_TOKEN": ""}, ports)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "TWILIO_AUTH_TOKEN is empty" in output
    assert not any(port_open(port) for port in ports)


def test_the_aws_emulator_applies_concurrent_updates_to_one_item_atomically(moto_endpoint: str) -> None:
    """moto alone runs requests on parallel threads without a lock (local/aws_emulator.py)."""
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=moto_endpoint, region_name=REGION, config=Config(max_pool_connections=16)
    )
    table = f"emulator-{free_port()}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def add_one(_: int) -> None:
        dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": "counter"}},
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(add_one, range(320)))
    assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "counter"}})["Item"]["n"] == {"N": "320"}


def test_a_long_poll_on_the_aws_emulator_holds_up_nobody(moto_endpoint: str) -> None:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)
    url = sqs.create_queue(QueueName=f"emulator-{free_port()}")["QueueUrl"]
    received: list[int] = []
    poll = threading.Thread(
        target=lambda: received.append(len(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])))
    )
    poll.start()
    time.sleep(0.5)  # the poll is waiting now
    asked = time.monotonic()
    dynamodb.list_tables()
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    poll.join(timeout=15)
    assert time.monotonic() - asked < 5  # not 10 s behind the poll
    assert received == [1]
