"""Demo contacts for the local stack: a Leeds pizza branch's customers, one of
whom moved 250 miles away years ago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.adapters.dynamodb_contacts import contact_item, tag_items
from chalicelib.domain import phone
from chalicelib.domain.contact import (
    Attribute,
    ConsentEvent,
    ConsentState,
    Contact,
    HomeLocation,
    TimeZone,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# number -> (first name, home postcode or None, years since the home was confirmed)
DEMO = {
    "+447700900123": ("Sam", "LS6 3AB", 0),
    "+447700900124": ("Priya", "LS1 4AP", 0),
    "+447700900125": ("Tom", "SW1A 1AA", 0),  # moved to London: 250 miles from the branch
    "+447700900126": ("Alex", "LS2 9JT", 3),  # home not confirmed for three years
    "+447700900127": ("Jo", None, 0),  # home never given
    "+15005550030": ("Casey", None, 0),  # the simulator reports 30003 for this number
}


def demo_contacts(now: datetime) -> list[Contact]:
    contacts = []
    for number, (name, postcode, years) in DEMO.items():
        home = None
        if postcode:
            confirmed = now - timedelta(days=365 * years + 30)
            home = HomeLocation(area=postcode.replace(" ", ""), confirmed_at=confirmed)
        contacts.append(
            Contact(
                phone=number,
                created_at=now - timedelta(days=3 * 365),
                attributes={"first_name": Attribute(value=name, source="import", updated_at=now)},
                tags=["pizza"],
                home=home,
                consent_event=ConsentEvent(
                    state=ConsentState.OPTED_IN, source="demo import", at=now - timedelta(days=3 * 365)
                ),
                time_zone=TimeZone(candidates=list(phone.time_zone_candidates(number))),
            )
        )
    return contacts


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
        for key in tag_items(contact):  # the tag index, as an import writes it
            client.put_item(TableName=table_name, Item=key)
    return list(DEMO)
