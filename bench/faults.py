"""A whole run of 2,000 contacts with faults injected at random into every
store and Twilio call of the send path (3% of calls fail before acting or
crash the sender after acting), Twilio down for its first 100 sends, 1% of
its answers lost, 10% of jobs delivered twice, all in any order. Stores are
the DynamoDB stores on the in-memory table (tests/memory_dynamodb.py): the
figures are about the state machine, not the emulator.

Figures: texts lost (planned, neither sent nor settled), texts sent twice,
faults injected, texts reconciled with Twilio after a sender died."""

from __future__ import annotations

import random
from collections import Counter

from bench._support import Figure, log
from chalicelib.domain.ledger import TERMINAL, Fate
from tests.faults import Faults, FlakyTwilio, drive
from tests.unit.test_send_faults import RUN, faulty_context
from tests.world import World

CONTACTS = 2000
FAULT_RATE = 0.03


def run() -> list[Figure]:
    world = World()
    world.campaign(messages_per_second=100)
    phones = [f"+447700{n:06d}" for n in range(CONTACTS)]
    for phone in phones:
        world.contact(phone)
    world.tick()
    world.plan()
    jobs = world.send_queue.take()
    faults = Faults(rate=FAULT_RATE, rng=random.Random(7))
    twilio = FlakyTwilio(world.clock, down=100, lost_answers=frozenset(random.Random(8).sample(range(1, 3000), 20)))
    log(f"faults: {len(jobs)} planned texts, {FAULT_RATE:.0%} of calls failing")
    outcomes = drive(jobs, faulty_context(world, faults, twilio), world.clock, random.Random(9), max_steps=200_000)
    texts = Counter(to for to, *_ in twilio.accepted)
    settled = {phone for phone in phones if (entry := world.runs.ledger.entry(RUN, phone)) and entry.state in TERMINAL}
    return [
        ("faults.lost_texts", len(set(phones) - settled), "texts"),
        ("faults.duplicate_texts", sum(n - 1 for n in texts.values()), "texts"),
        ("faults.injected", len(faults.fired), "faults"),
        ("faults.reconciled", Counter(outcomes)[Fate.RECONCILED], "texts"),
    ]
