"""The Lambdas AWS triggers, driven locally: the same handler functions the
deployed stack runs (chalicelib.entrypoints.jobs), called as Lambda calls them.

- the EventBridge tick, every --tick-seconds (60 in AWS);
- the plan, send and events queues, long-polled on the AWS emulator; a batch goes to
  its handler as an SQS event, and the messages the handler does not report
  as failed are deleted (Lambda's partial batch response). Failed ones come
  back after the visibility timeout and end in the dead-letter queue.

Started by `make run` (local/stack.py) with the stack's environment.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

Handler = Callable[[dict[str, Any], Any], Any]


FUNCTION_TIMEOUT_S = 120  # the send function's timeout in .chalice/config.json


def context(function: str) -> SimpleNamespace:
    """Lambda's context object, with its clock: handlers see their time running out as in AWS."""
    deadline = time.monotonic() + FUNCTION_TIMEOUT_S
    return SimpleNamespace(
        function_name=f"rapport-local-{function}",
        aws_request_id=str(uuid.uuid4()),
        memory_limit_in_mb=128,
        invoked_function_arn=f"arn:aws:lambda:local:000000000000:function:rapport-local-{function}",
        get_remaining_time_in_millis=lambda: int((deadline - time.monotonic()) * 1000),
    )


def scheduled_event(now: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "resources": ["arn:aws:events:local:000000000000:rule/rapport-local-tick"],
        "detail": {},
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            }
            for m in messages
        ]
    }


def consume_once(sqs: SQSClient, url: str, arn: str, handler: Handler, function: str, batch: int) -> int:
    """One poll: hand a batch to the handler, delete what it did not report failed."""
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch, WaitTimeSeconds=1)
    messages: list[dict[str, Any]] = list(received.get("Messages", []))  # type: ignore[arg-type]
    if not messages:
        return 0
    try:
        answer = handler(sqs_event(messages, arn), context(function)) or {}
    except Exception:  # as in Lambda: the whole batch comes back after the visibility timeout
        return 0
    failed = {failure["itemIdentifier"] for failure in answer.get("batchItemFailures", [])}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        entries: Any = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    return len(done)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tick-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)

    import boto3

    import app  # noqa: F401 (registers the blueprints, as the Lambda runtime does)
    from chalicelib.entrypoints import jobs

    sqs = boto3.client("sqs")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def ticker() -> None:
        while not stop.is_set():
            try:
                jobs.tick(scheduled_event(datetime.now(UTC)), context("tick"))
            except Exception as error:  # as in AWS: the next tick tries again
                print(f"tick failed: {error!r}", flush=True)
            stop.wait(args.tick_seconds)

    def consumer(url: str, handler: Handler, function: str, batch: int) -> Callable[[], None]:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        def loop() -> None:
            while not stop.is_set():
                consume_once(sqs, url, arn, handler, function, batch)

        return loop

    threads = [
        threading.Thread(target=ticker, daemon=True),
        threading.Thread(target=consumer(os.environ["PLAN_QUEUE_URL"], jobs.plan, "plan", 1), daemon=True),
        threading.Thread(target=consumer(os.environ["SEND_QUEUE_URL"], jobs.send, "send", 10), daemon=True),
        threading.Thread(target=consumer(os.environ["EVENTS_QUEUE_URL"], jobs.events, "events", 10), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        stop.set()
    for thread in threads:
        thread.join(timeout=5)


if __name__ == "__main__":
    main()
