"""A campaign preview (the planning rules, nothing sent) over contacts in DynamoDB
on moto server: DynamoDB calls per contact (paged scans) and contacts per second."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench._support import CallCounter, Figure, log, moto_dynamodb
from chalicelib.adapters.dynamodb_store import DynamoCampaignStore, DynamoConversationStore, contact_item
from chalicelib.domain.campaign import Audience, Campaign, Location
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact, HomeLocation, TimeZone
from chalicelib.domain.policy import PolicySettings
from chalicelib.services.campaigns import preview
from local.schema import create_table

# moto answers each scan page in time that grows with the table, so this stays
# small; the figure that carries over to DynamoDB is reads_per_contact.
CONTACTS = 5_000
TABLE = "bench-preview"
AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return AT

    def sleep(self, seconds: float) -> None:
        raise AssertionError(f"a preview never waits (asked to wait {seconds} s)")


def contacts() -> list[Contact]:
    homes = ["LS6 1AA", "LS1 2BB", "SW1A 1AA", "M1 1AE"]
    return [
        Contact(
            phone=f"+447700{n:06d}",
            created_at=AT - timedelta(days=400),
            tags=["pizza"] if n % 5 else ["burgers"],
            home=HomeLocation(area=homes[n % 4], confirmed_at=AT - timedelta(days=n % 365)),
            consent_history=[ConsentEvent(state=ConsentState.OPTED_IN, source="import", at=AT - timedelta(days=300))],
            time_zone=TimeZone(candidates=["Europe/London", "Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey"]),
        )
        for n in range(CONTACTS)
    ]


def run() -> list[Figure]:
    with moto_dynamodb() as dynamodb:
        create_table(dynamodb, TABLE)
        log(f"preview: writing {CONTACTS} contacts")
        batch: list[dict[str, object]] = []
        for contact in contacts():
            batch.append({"PutRequest": {"Item": contact_item(contact, version=1)}})
            if len(batch) == 25:
                answer = dynamodb.batch_write_item(RequestItems={TABLE: batch})  # type: ignore[dict-item]
                assert not answer.get("UnprocessedItems"), "the emulator throttled the load"
                batch = []
        campaigns = DynamoCampaignStore(dynamodb, TABLE)
        campaign = Campaign(
            id="bench",
            name="bench",
            message="Hi {first_name|there}, 2-for-1 tonight",
            audience=Audience(tags=["pizza"]),
            location=Location(name="Leeds", prefixes=["LS"]),
            send_at=AT,
            created_at=AT,
            updated_at=AT,
        )
        campaigns.save(campaign, None)
        counter = CallCounter(dynamodb)
        log("preview: planning")
        started = time.perf_counter()
        result = preview(
            "bench", campaigns, DynamoConversationStore(dynamodb, TABLE), FixedClock(), PolicySettings(), "UTC"
        )
        elapsed = time.perf_counter() - started
    assert sum(result.decisions.values()) == result.audience == CONTACTS * 4 // 5
    return [
        ("preview.reads_per_contact", counter.calls / CONTACTS, "calls"),
        ("preview.contacts_per_s", CONTACTS / elapsed, "contacts/s"),
        ("preview.ddb_share", counter.seconds / elapsed, "of the time"),
    ]
