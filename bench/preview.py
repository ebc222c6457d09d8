"""A campaign preview (the planning rules, nothing sent) over contacts in DynamoDB
on moto server: DynamoDB calls per contact (paged scans) and contacts per second."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bench._support import CallCounter, Figure, FixedClock, leeds_offer, load, log, moto_dynamodb, population
from chalicelib.adapters.dynamodb_store import DynamoCampaignStore, DynamoConversationStore, DynamoStoreBook
from chalicelib.domain.policy import PolicySettings
from chalicelib.services.campaigns import preview
from chalicelib.services.stores import StoreDirectory
from local.schema import create_table

# moto answers each scan page in time that grows with the table, so this stays
# small; the figure that carries over to DynamoDB is reads_per_contact.
CONTACTS = 5_000
TABLE = "bench-preview"
AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def run() -> list[Figure]:
    with moto_dynamodb() as dynamodb:
        create_table(dynamodb, TABLE)
        log(f"preview: writing {CONTACTS} contacts")
        load(dynamodb, TABLE, population(CONTACTS, AT))
        campaigns = DynamoCampaignStore(dynamodb, TABLE)
        campaigns.save(leeds_offer(AT), None)
        counter = CallCounter(dynamodb)
        log("preview: planning")
        started = time.perf_counter()
        clock = FixedClock(AT)
        stores = StoreDirectory(DynamoStoreBook(dynamodb, TABLE), clock, "Bench", 1)
        result = preview(
            "bench", campaigns, DynamoConversationStore(dynamodb, TABLE), clock, PolicySettings(), "UTC", stores
        )
        elapsed = time.perf_counter() - started
    assert sum(result.decisions.values()) == result.audience == CONTACTS * 4 // 5
    return [
        ("preview.reads_per_contact", counter.calls / CONTACTS, "calls"),
        ("preview.contacts_per_s", CONTACTS / elapsed, "contacts/s"),
        ("preview.ddb_share", counter.seconds / elapsed, "of the time"),
    ]
