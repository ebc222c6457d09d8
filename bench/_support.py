"""What benchmarks share: a moto server on loopback and a DynamoDB call counter."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3

from local.stack import stop_process, wait_for

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Figure = tuple[str, float | int, str]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def moto_dynamodb() -> Iterator[DynamoDBClient]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_for(f"{endpoint}/moto-api/", process=process)
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        yield client
        client.close()  # moto waits for open keep-alive connections before it exits
    finally:
        stop_process(process)


class CallCounter:
    """Counts every DynamoDB API call a client makes, and the time spent waiting
    on them, through botocore's own event hooks."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.calls = 0
        self.seconds = 0.0
        self._started = 0.0
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def reset(self) -> None:
        self.calls, self.seconds = 0, 0.0

    def _before(self, **_: Any) -> None:
        self.calls += 1
        self._started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        self.seconds += time.perf_counter() - self._started
