"""A send batch's texts are handled at once (entrypoints/jobs.py): each waits
for its own slot of the pace, so a batch takes about as long as its slowest
text; a failed one is answered back alone."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

from chalice.app import SQSEvent

from chalicelib.entrypoints.jobs import SEND_BATCH, _each
from chalicelib.services.send_text import BatchReads


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


def test_a_batchs_threads_read_its_run_and_contacts_once() -> None:
    calls: Counter[str] = Counter()

    def slow(name: str, answer: Any) -> Any:
        def read(*_args: Any) -> Any:
            calls[name] += 1
            time.sleep(0.05)  # long enough for every thread to miss at once, were the reads not shared
            return answer

        return read

    ctx: Any = SimpleNamespace(
        runs=SimpleNamespace(get_run=slow("run", None)), store=SimpleNamespace(get_contacts=slow("contacts", []))
    )
    reads = BatchReads(phones=[f"+4477009005{n:02d}" for n in range(SEND_BATCH)])
    with ThreadPoolExecutor(max_workers=SEND_BATCH) as pool:
        list(pool.map(lambda phone: (reads.run("cmp@1", ctx), reads.contact(phone, ctx)), reads.phones))
    assert calls == {"run": 1, "contacts": 1}
