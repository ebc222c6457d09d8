"""A send batch's texts are handled at once (entrypoints/jobs.py): each waits
for its own slot of the pace, so a batch takes about as long as its slowest
text; a failed one is answered back alone."""

from __future__ import annotations

import threading
from typing import Any

from chalice.app import SQSEvent

from chalicelib.entrypoints.jobs import SEND_BATCH, _each


def event_of(bodies: list[str]) -> SQSEvent:
    records = [{"messageId": f"m{n}", "body": body, "receiptHandle": "r", "attributes": {},
                "messageAttributes": {}, "eventSourceARN": "arn:aws:sqs:us-east-1:1:q"}
               for n, body in enumerate(bodies)]  # fmt: skip
    return SQSEvent({"Records": records}, context=None)


def test_a_batchs_texts_are_handled_at_once_and_a_failed_one_comes_back_alone() -> None:
    together = threading.Barrier(SEND_BATCH - 1, timeout=10)  # passed only if the nine are in hand at once
    handled: list[Any] = []

    def handle(job: dict[str, Any]) -> None:
        if job["n"] == 3:
            raise ValueError("a poison job")
        together.wait()
        handled.append(job["n"])

    answer = _each(event_of([f'{{"n": {n}}}' for n in range(SEND_BATCH)]), "send", handle, at_once=SEND_BATCH)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m3"}]}
    assert sorted(handled) == [n for n in range(SEND_BATCH) if n != 3]
