"""Timeline on the table: what else is kept under a contact's partition.

  pk = "C#<e164>", sk = "K#..." "F#..."   consent changes and answered fields
  pk = "C#<e164>", sk = "E#<id>"          notes and interactions
and the messages (dynamodb_messages.py), read here for the whole history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters import table_layout as layout
from chalicelib.adapters.dynamodb_contacts import consent_item, field_item
from chalicelib.adapters.dynamodb_items import THREAD_INDEX, all_pages, doc_item, kept, load_doc
from chalicelib.adapters.table_layout import SORTABLE_LENGTH, contact_pk, entry_key, sortable
from chalicelib.adapters.unit_of_work import CONDITION_FAILED, error_code
from chalicelib.domain.contact import ConsentEvent, FieldChange
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.messages import Message
from chalicelib.domain.timeline import ContactHistory, Entry
from chalicelib.services.ports import Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoTimeline:
    def __init__(self, client: DynamoDBClient, table_name: str, notes_days: int = 0) -> None:
        self._client = client
        self._table = table_name
        self._notes_days = notes_days  # Retention.notes

    def add_trail(self, phone: str, consents: list[ConsentEvent], fields: list[FieldChange]) -> None:
        items = [consent_item(phone, event) for event in consents] + [field_item(phone, f) for f in fields]
        for start in range(0, len(items), 25):
            requests: Any = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            while requests:
                response = self._client.batch_write_item(RequestItems={self._table: requests})
                requests = response.get("UnprocessedItems", {}).get(self._table, [])

    def trail(self, phone: str) -> ContactHistory:
        # F# and K#: nothing sorts between them
        return self._read(phone, sk_range=(layout.FIELD, layout.CONSENT + layout.AFTER_ALL))

    def history(self, phone: str, before: datetime | None = None, newest: int | None = None) -> ContactHistory:
        """Everything kept under the contact (one partition), every page of it; with
        `newest`, of each timed kind only what a timeline page needs (ports.py)."""
        if newest is None:
            return self._read(phone)
        upto = sortable(before) if before else None
        return ContactHistory(
            messages=[load_doc(Message, item) for item in self._newest(phone, "", upto, newest)],
            entries=self.entries(phone),
            consents=[load_doc(ConsentEvent, item) for item in self._newest(phone, layout.CONSENT, upto, newest)],
            fields=[load_doc(FieldChange, item) for item in self._newest(phone, layout.FIELD, upto, newest)],
        )

    def _newest(self, phone: str, prefix: str, upto: str | None, newest: int) -> list[dict[str, Any]]:
        """One timed kind, newest first: every item at `upto` and the `newest` + 1 before it.
        Messages (no prefix) are read on the thread index by `ts`; consent changes and
        answered fields by `sk`, whose time follows the prefix. Both times are `sortable`."""
        key, index = ("sk", None) if prefix else ("ts", THREAD_INDEX)
        high = (prefix + upto + "#" + layout.AFTER_ALL) if upto else prefix + layout.AFTER_ALL
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": f"pk = :pk AND {key} BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": {"S": contact_pk(phone)},
                ":low": {"S": prefix or "0"},
                ":high": {"S": high},
            },
            "ScanIndexForward": False,
            "Limit": newest + 1,
            **({"IndexName": index} if index else {}),
        }
        found: list[dict[str, Any]] = []
        older = 0
        for page in all_pages(self._client.query, request):
            for item in page:
                at = item[key]["S"][len(prefix) : len(prefix) + SORTABLE_LENGTH]
                older += upto is None or at < upto
                if older > newest + 1:
                    return found
                found.append(item)
        return found

    def _read(self, phone: str, sk_range: tuple[str, str] | None = None) -> ContactHistory:
        """Everything kept under the contact (one partition), every page of it."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": contact_pk(phone)}},
        }
        if sk_range:
            request["KeyConditionExpression"] += " AND sk BETWEEN :low AND :high"
            request["ExpressionAttributeValues"].update({":low": {"S": sk_range[0]}, ":high": {"S": sk_range[1]}})
        found = ContactHistory()
        for page in all_pages(self._client.query, request):
            for item in page:
                kind = item["sk"]["S"][:2]
                if kind == layout.MESSAGE:
                    found.messages.append(load_doc(Message, item))
                elif kind == layout.ENTRY:
                    found.entries.append(load_doc(Entry, item))
                elif kind == layout.CONSENT:
                    found.consents.append(load_doc(ConsentEvent, item))
                elif kind == layout.FIELD:
                    found.fields.append(load_doc(FieldChange, item))
        return found

    def trailed(self, phone: str, event: ConsentEvent) -> Write:
        return Write({"Put": {"TableName": self._table, "Item": consent_item(phone, event)}})

    def add_entry(self, phone: str, entry: Entry) -> bool:
        put = self.added(phone, entry, lambda _item: ConcurrentUpdateError(entry.id)).op["Put"]
        try:
            self._client.put_item(**put)
        except ClientError as error:
            if error_code(error) == CONDITION_FAILED:
                return False
            raise
        return True

    def added(self, phone: str, entry: Entry, already: Callable[[dict[str, Any]], Exception]) -> Write:
        """The entry, for a unit of work: refused with `already(item)` when its id is taken."""
        item = kept(doc_item(entry, entry_key(phone, entry.id), 1), entry.at, self._notes_days)
        return Write(
            {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
            already,
        )

    def entries(self, phone: str) -> list[Entry]:
        return self._read(phone, sk_range=(layout.ENTRY, layout.ENTRY + layout.AFTER_ALL)).entries
