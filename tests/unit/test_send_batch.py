"""A send batch's texts are handled at once (entrypoints/jobs.py): each waits
for its own slot of the pace, so a batch takes about as long as its slowest
text; a failed one is answered back alone."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from types import SimpleNamespace
from typing import Any

from chalice.app import SQSEvent

from chalicelib.entrypoints.jobs import SEND_BATCH, _each
from chalicelib.services.send_text import BatchReads, SlotBlocks
from tests.fakes import InMemoryRunStore


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


def test_a_batch_takes_its_senders_slots_in_one_block_and_hands_them_out_apart() -> None:
    runs = InMemoryRunStore()
    updates = runs.table.db.calls
    runs.senders.take_slot("+15005550006", 0.1, 90.0)  # a batch ten seconds before (its pace item made)
    blocks = SlotBlocks(size=SEND_BATCH)
    before = updates["UpdateItem"]
    with ThreadPoolExecutor(max_workers=SEND_BATCH) as pool:  # one two-segment text among nine of one
        slots = sorted(pool.map(lambda n: blocks.take(runs.senders, "+15005550006", 0.1, 2 if n == 0 else 1, 100.0),
                                range(SEND_BATCH - 1)))  # fmt: skip
    assert updates["UpdateItem"] - before == 1  # nine texts, ten one-segment slots: one write of the pace
    gaps = [round(later - earlier, 6) for earlier, later in pairwise(slots)]
    assert sorted(gaps) == [0.1] * 7 + [0.2] and slots[0] >= 100.0  # the two-segment text's slot is twice as wide
    following = SlotBlocks(size=SEND_BATCH).take(runs.senders, "+15005550006", 0.1, 1, 100.0)
    assert following >= 100.0 + SEND_BATCH * 0.1 - 1e-9  # the next batch's block starts after this one's end


def test_a_batchs_texts_leave_each_its_paces_width_after_the_last_and_other_paces_wait_for_none() -> None:
    blocks = SlotBlocks(size=SEND_BATCH)
    slack = 0.01
    assert blocks.turn({"sender A": 0.5, "capped run": 2.0}, 100.0, slack) == 100.0  # the first leaves at once
    assert blocks.turn({"sender B": 0.1}, 100.0, slack) == 100.0  # another sender's text waits for nobody
    assert blocks.turn({"sender A": 0.5}, 100.2, slack) == 100.5  # too soon after A's last: not recorded
    assert blocks.turn({"sender A": 0.5}, 100.5, slack) == 100.5  # its turn
    assert blocks.turn({"sender A": 0.5, "capped run": 2.0}, 101.0, slack) == 102.0  # the run's width, not A's
    assert blocks.turn({"sender A": 0.5, "capped run": 2.0}, 101.995, slack) == 102.0  # within the slack: it goes
    assert blocks.turn({"sender B": 0.1}, 100.1, slack) == 100.1
