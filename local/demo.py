"""Demo contacts for the local stack, with the consent they gave and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.adapters.dynamodb_store import contact_item
from chalicelib.domain import phone
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact, TimeZone

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEMO_PHONES = ("+447700900123", "+14155550100", "+12025550123", "+15005550030")


def demo_contacts(now: datetime) -> list[Contact]:
    return [
        Contact(
            phone=number,
            created_at=now,
            consent_history=[ConsentEvent(state=ConsentState.OPTED_IN, source="import", keyword=None, at=now)],
            time_zone=TimeZone(candidates=list(phone.time_zone_candidates(number))),
        )
        for number in DEMO_PHONES
    ]


def seed(client: DynamoDBClient, table_name: str) -> list[str]:
    """Write the demo contacts unless they exist; returns the numbers."""
    for contact in demo_contacts(datetime.now(UTC)):
        try:
            client.put_item(
                TableName=table_name,
                Item=contact_item(contact, version=1),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            continue  # kept from an earlier run: never overwrite real state
    return list(DEMO_PHONES)
