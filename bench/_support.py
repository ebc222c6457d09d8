"""What benchmarks share: a moto server on loopback, a DynamoDB call counter,
and a population of contacts to load."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3

from chalicelib.adapters.dynamodb_contacts import contact_item
from chalicelib.domain.campaign import Audience, Campaign, Location
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact, HomeLocation, TimeZone
from local.stack import stop_process, wait_for

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Figure = tuple[str, float | int, str]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    """A loopback port nothing listens on now (the OS's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server (DynamoDB, SQS ...) on a free loopback port: its endpoint."""
    port = free_port()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    process = subprocess.Popen(
        [sys.executable, "-m", "local.aws_emulator", "-H", "127.0.0.1", "-p", str(port), "--exit-with-parent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_for(f"{endpoint}/moto-api/", process=process)
        yield endpoint
    finally:
        stop_process(process)


@contextlib.contextmanager
def moto_dynamodb() -> Iterator[DynamoDBClient]:
    with moto_server() as endpoint:
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        yield client
        client.close()  # moto waits for open keep-alive connections before it exits


class CallCounter:
    """Counts every DynamoDB API call a client makes, and the time spent waiting
    on them, through botocore's own event hooks."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.calls = 0
        self.seconds = 0.0
        self.by_operation: Counter[str] = Counter()
        self._started = 0.0
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def reset(self) -> None:
        self.calls, self.seconds = 0, 0.0
        self.by_operation.clear()

    def _before(self, model: Any, **_: Any) -> None:
        self.calls += 1
        self.by_operation[model.name] += 1
        self._started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        self.seconds += time.perf_counter() - self._started


def population(count: int, at: datetime, tags: tuple[str, ...] = ("pizza",)) -> Iterator[Contact]:
    """A Leeds pizza branch's customers: one in five tagged otherwise, homes in
    and out of the area, confirmed at spread-out dates, UK zone candidates."""
    homes = ["LS6 1AA", "LS1 2BB", "SW1A 1AA", "M1 1AE"]
    for n in range(count):
        yield Contact(
            phone=f"+447{n:09d}",
            created_at=at - timedelta(days=400),
            tags=list(tags) if n % 5 else ["burgers"],
            home=HomeLocation(area=homes[n % 4], confirmed_at=at - timedelta(days=n % 365)),
            consent_event=ConsentEvent(state=ConsentState.OPTED_IN, source="import", at=at - timedelta(days=300)),
            time_zone=TimeZone(candidates=["Europe/London", "Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey"]),
        )


def load(dynamodb: DynamoDBClient, table: str, contacts: Iterable[Contact]) -> int:
    """Write contacts 25 to a request, as an import job would; how many were written."""
    written = 0
    batch: list[Any] = []
    for contact in contacts:
        batch.append({"PutRequest": {"Item": contact_item(contact, version=1)}})
        if len(batch) == 25:
            written += _write(dynamodb, table, batch)
            batch = []
    return written + (_write(dynamodb, table, batch) if batch else 0)


def _write(dynamodb: DynamoDBClient, table: str, batch: list[Any]) -> int:
    answer = dynamodb.batch_write_item(RequestItems={table: batch})
    assert not answer.get("UnprocessedItems"), "the emulator throttled the load"
    return len(batch)


def leeds_offer(at: datetime, campaign_id: str = "bench", **changes: Any) -> Campaign:
    """A location-tied marketing campaign for the population above, due at `at`."""
    return Campaign(
        id=campaign_id,
        name="bench",
        message="Hi {first_name|there}, 2-for-1 tonight",
        audience=Audience(tags=["pizza"]),
        location=Location(name="Leeds", prefixes=["LS"]),
        send_at=at,
        created_at=at,
        updated_at=at,
    ).model_copy(update=changes)


class FixedClock:
    """Planning at one instant; planning never waits."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        raise AssertionError(f"planning never waits (asked to wait {seconds} s)")
