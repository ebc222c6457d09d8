"""Demo data for the local stack: two branches of a pizza chain (Leeds and
Newcastle, each with its own number) and Leeds's customers, one of whom, Tom,
ordered once from Newcastle three years ago and lives in London: Newcastle's
offers are out of his area."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.adapters.dynamodb_contacts import contact_item, tag_items
from chalicelib.adapters.dynamodb_store import DynamoStoreBook
from chalicelib.domain import phone
from chalicelib.domain.contact import (
    Attribute,
    ConsentEvent,
    ConsentState,
    Contact,
    HomeLocation,
    StoreSource,
    TimeZone,
)
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.orders import Money, OrderItem, OrderSummary
from chalicelib.domain.stores import Store, StoreSpec

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


STORES = {
    "leeds": StoreSpec(name="Pizza Co Leeds", time_zone="Europe/London", areas=["LS"], sender="+441134960000",
                       messages_per_second=1, phone="+441134960001"),
    "newcastle": StoreSpec(name="Pizza Co Newcastle", time_zone="Europe/London", areas=["NE"], sender="+441914960000",
                           messages_per_second=1, phone="+441914960001"),
}  # fmt: skip
TOM = "+447700900125"


def _store_of(number: str, home: HomeLocation | None, now: datetime) -> dict[str, object]:
    """Tom's store is the one he ordered from; the others', the one their confirmed home lies in."""
    if number == TOM:
        ordered = now - timedelta(days=3 * 365)
        orders = OrderSummary(count=1, first_at=ordered, last_at=ordered, last_store_id="newcastle",
                              total=Money(amount=1899, currency="GBP"),
                              last_items=[OrderItem(name="Pepperoni", quantity=1)], last_items_at=ordered,
                              last_items_order_id="ord_tom_1", last_items_store_id="newcastle",
                              last_items_total=Money(amount=1899, currency="GBP"))  # fmt: skip
        return {"store_id": "newcastle", "store_source": StoreSource.ORDER, "store_since": ordered, "orders": orders}
    if home is not None and home.area.startswith("LS"):
        return {"store_id": "leeds", "store_source": StoreSource.HOME, "store_since": now}
    return {}


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
                **_store_of(number, home, now),
            )
        )
    return contacts


def seed(client: DynamoDBClient, table_name: str) -> list[str]:
    """Write the demo stores and contacts unless they exist; returns the numbers."""
    now, stores = datetime.now(UTC), DynamoStoreBook(client, table_name)
    for store_id, spec in STORES.items():
        try:
            stores.save(Store(**spec.model_dump(), id=store_id, created_at=now, updated_at=now), None)
        except ConcurrentUpdateError:
            continue  # kept from an earlier run
    for contact in demo_contacts(now):
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
