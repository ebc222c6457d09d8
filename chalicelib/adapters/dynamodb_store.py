"""ConversationStore on one DynamoDB table (schema in infra/resources.json): the
contacts, with their messages (dynamodb_messages.py) and timeline
(dynamodb_timeline.py) as repositories beside it, all under the contact's
partition so one contact is one partition:
  pk = "C#<e164>", sk = "PROFILE"      the contact (layout: dynamodb_contacts.py)
and, outside it, the tag index (written with the profile, one transaction):
  pk = "T#<tag>",  sk = "C#<e164>"      one per tag a contact has
Contacts carry `contact` for the sparse `contacts` index that planning scans
(so it never reads messages or decisions). Campaigns, prompts and saved
replies are documents on shelves (dynamodb_items.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic

from botocore.exceptions import ClientError

from chalicelib.adapters import table_layout as layout
from chalicelib.adapters.dynamodb_answers import DynamoAnswerBook
from chalicelib.adapters.dynamodb_contacts import (
    applied_before,
    contact_update,
    load_contact,
    markers_to_trim,
    needs_profile,
    tag_changes,
    text_update,
)
from chalicelib.adapters.dynamodb_items import (
    DOC,
    DocumentT,
    all_pages,
    doc_item,
    items_at,
    load_doc,
    next_version,
    put_or_conflict,
    versioned_put,
)
from chalicelib.adapters.dynamodb_messages import DynamoMessageLog
from chalicelib.adapters.dynamodb_orders import DynamoOrderBook
from chalicelib.adapters.dynamodb_timeline import DynamoTimeline
from chalicelib.adapters.table_layout import contact_key, sortable, tag_key
from chalicelib.adapters.unit_of_work import CONDITION_FAILED, DynamoUnitOfWork, error_code
from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import Contact
from chalicelib.domain.double_opt_in import ConsentText
from chalicelib.domain.errors import ConcurrentUpdateError, ProfileNeededError, TextAlreadyAppliedError
from chalicelib.domain.inbound import InboundChange
from chalicelib.domain.orders import OrderText
from chalicelib.domain.prompts import Prompt, default_prompts
from chalicelib.domain.retention import DEFAULT_RETENTION, Retention
from chalicelib.domain.saved_replies import SavedReply
from chalicelib.domain.stores import Store
from chalicelib.services.ports import Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONTACTS_INDEX = "contacts"
INBOX_INDEX = "inbox"
SCAN_PAGE = 200  # contacts read per Scan call when a search must scan


class DynamoConversationStore:
    def __init__(self, client: DynamoDBClient, table_name: str, retention: Retention = DEFAULT_RETENTION) -> None:
        self._client = client
        self._table = table_name
        self.messages = DynamoMessageLog(client, table_name, retention.messages)
        self.timeline = DynamoTimeline(client, table_name, retention.notes)
        self.orders = DynamoOrderBook(client, table_name)
        self.answers = DynamoAnswerBook(client, table_name, retention.answers)

    def unit(self) -> DynamoUnitOfWork:
        return DynamoUnitOfWork(self._client)

    def get_contact(self, phone: str) -> Contact | None:
        response = self._client.get_item(TableName=self._table, Key=contact_key(phone), ConsistentRead=True)
        item = response.get("Item")
        return load_contact(item) if item else None

    def apply_text(self, change: InboundChange, created: Contact) -> Contact | None:
        with_consent = True
        while True:
            request = text_update(self._table, change, created, with_consent)
            try:
                response = self._client.update_item(**request)
                break
            except ClientError as error:
                if error_code(error) != CONDITION_FAILED:
                    raise
                current: Any = error.response.get("Item", {})
                if applied_before(current, change.sms.sid):
                    raise TextAlreadyAppliedError(change.sms.sid) from None
                if needs_profile(current, change) or not with_consent:
                    raise ProfileNeededError(change.sms.phone) from None
                with_consent = False  # a later consent stands
        before: dict[str, Any] = dict(response.get("Attributes", {}))
        if stale := markers_to_trim(before):
            names = {f"#m{i}": name for i, name in enumerate(stale)}
            self._client.update_item(
                TableName=self._table,
                Key=contact_key(change.sms.phone),
                UpdateExpression="REMOVE " + ", ".join(names),
                ExpressionAttributeNames=names,
            )
        return load_contact(before) if "doc" in before else None

    def save_contact(
        self,
        contact: Contact,
        expected_version: int | None,
        applied_sid: str = "",
        applied_at: datetime | None = None,
        tags_before: Sequence[str] | None = None,
    ) -> None:
        unit = self.unit()
        unit.add(*self.saved(contact, expected_version, applied_sid, applied_at, tags_before))
        unit.commit()

    def saved(
        self,
        contact: Contact,
        expected_version: int | None,
        applied_sid: str = "",
        applied_at: datetime | None = None,
        tags_before: Sequence[str] | None = None,
    ) -> list[Write]:
        at = sortable(applied_at) if applied_at else ""
        if tags_before is None and expected_version is None:
            tags_before = ()  # a new contact: none of its tags is indexed yet
        index = [] if tags_before is None else tag_changes(self._table, contact.phone, tags_before, contact.tags)

        def refused(current: dict[str, Any]) -> Exception:
            if applied_sid and applied_before(current, applied_sid):
                return TextAlreadyAppliedError(applied_sid)
            return ConcurrentUpdateError(contact.phone)

        profile = Write(contact_update(self._table, contact, expected_version, applied_sid, at), refused)
        return [profile, *(Write(change) for change in index)]  # the tag index changes with the profile

    def get_contacts(self, phones: Sequence[str]) -> list[Contact]:
        """The contacts of these numbers that exist, in the order asked (BatchGetItem, 100 a call)."""
        items = items_at(self._client, self._table, [contact_key(phone) for phone in phones])
        found = {contact.phone: contact for contact in map(load_contact, items)}
        return [found[phone] for phone in phones if phone in found]

    def tagged(self, tag: str, limit: int, after: str | None = None) -> tuple[list[Contact], str | None]:
        """A Query of the tag's index items (never a scan), then one BatchGetItem."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": tag_key(tag, "")["pk"]},
            "Limit": limit,
        }
        if after is not None:
            request["ExclusiveStartKey"] = tag_key(tag, after)
        response = self._client.query(**request)
        phones = [item["sk"]["S"].removeprefix(layout.CONTACT) for item in response.get("Items", [])]
        contacts = [contact for contact in self.get_contacts(phones) if tag in contact.tags]
        more = phones[-1] if phones and "LastEvaluatedKey" in response else None
        return contacts, more

    def find_contacts(
        self, wanted: Callable[[Contact], bool], limit: int, after: str | None, budget: int, hint: str = ""
    ) -> tuple[list[Contact], str | None]:
        """Scans the sparse contacts index (profiles only), at most `budget` of them,
        with `hint` as a filter on the stored profile so fewer cross the wire."""
        request: dict[str, Any] = {"TableName": self._table, "IndexName": CONTACTS_INDEX}
        if hint:
            request["FilterExpression"] = "contains(#doc, :hint)"
            request["ExpressionAttributeNames"] = {"#doc": DOC}
            request["ExpressionAttributeValues"] = {":hint": {"S": hint}}
        found: list[Contact] = []
        read = 0
        while True:
            if after is not None:
                request["ExclusiveStartKey"] = {"contact": {"S": after}, **contact_key(after)}
            page_size = min(SCAN_PAGE, budget - read)
            response = self._client.scan(**request, Limit=page_size)
            read += page_size
            for item in response.get("Items", []):
                contact = load_contact(item)
                if wanted(contact):
                    found.append(contact)
                    if len(found) == limit:
                        return found, contact.phone
            last: Any = response.get("LastEvaluatedKey")
            if not last:
                return found, None
            after = str(last["contact"]["S"])
            if read >= budget:
                return found, after

    def scan_contacts(self, segment: int, total_segments: int) -> Iterator[list[Contact]]:
        request = {
            "TableName": self._table,
            "IndexName": CONTACTS_INDEX,  # sparse: contacts only, never their messages
            "Segment": segment,
            "TotalSegments": total_segments,
        }
        for page in all_pages(self._client.scan, request):
            yield [load_contact(item) for item in page]

    def open_conversations(self, limit: int = 50) -> list[Contact]:
        response = self._client.query(
            TableName=self._table,
            IndexName=INBOX_INDEX,
            KeyConditionExpression="inbox = :open",
            ExpressionAttributeValues={":open": {"S": "open"}},
            Limit=limit,
        )
        return [load_contact(item) for item in response.get("Items", [])]


class DynamoCampaignStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._shelf = Shelf(client, table_name, *layout.CAMPAIGN_SHELF, Campaign)

    def get(self, campaign_id: str) -> Campaign | None:
        return self._shelf.get(campaign_id)

    def save(self, campaign: Campaign, expected_version: int | None) -> None:
        self._shelf.save(campaign.id, campaign, expected_version)

    def saved(self, campaign: Campaign, expected_version: int | None) -> Write:
        return self._shelf.saved(campaign.id, campaign, expected_version)

    def list(self) -> list[Campaign]:
        return self._shelf.list()


class Shelf(Generic[DocumentT]):
    """A few documents of one kind, read together: one partition, sk = <prefix><id>,
    each the model as JSON (`doc`) with a `version`. Prompts and saved replies."""

    def __init__(self, client: DynamoDBClient, table_name: str, partition: str, prefix: str, model: type[DocumentT]):
        self._client = client
        self._table = table_name
        self._partition = partition
        self._prefix = prefix
        self._model = model

    def _key(self, doc_id: str) -> dict[str, Any]:
        return {"pk": {"S": self._partition}, "sk": {"S": self._prefix + doc_id}}

    def get(self, doc_id: str) -> DocumentT | None:
        item = self._client.get_item(TableName=self._table, Key=self._key(doc_id), ConsistentRead=True).get("Item")
        return load_doc(self._model, item) if item else None

    def put(self, doc_id: str, doc: DocumentT) -> None:
        """Create or replace, whatever is there (the last write wins)."""
        self._client.put_item(TableName=self._table, Item=doc_item(doc, self._key(doc_id), 1))

    def save(self, doc_id: str, doc: DocumentT, expected_version: int | None) -> None:
        """None: new (refused if the id exists); else only over that version.
        ConcurrentUpdateError when refused."""
        put_or_conflict(self._client, self.saved(doc_id, doc, expected_version).op, doc_id)

    def saved(self, doc_id: str, doc: DocumentT, expected_version: int | None) -> Write:
        """The write `save` makes, for a unit of work."""
        item = doc_item(doc, self._key(doc_id), next_version(expected_version))
        return Write(versioned_put(self._table, item, expected_version))

    def delete(self, doc_id: str) -> DocumentT | None:
        """The document deleted, or None when there was none."""
        item = self._client.delete_item(TableName=self._table, Key=self._key(doc_id), ReturnValues="ALL_OLD")
        old = item.get("Attributes")
        return load_doc(self._model, old) if old else None

    def _query(self, **extra: Any) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": self._partition}, ":prefix": {"S": self._prefix}},
            **extra,
        }

    def list(self) -> list[DocumentT]:
        return [load_doc(self._model, item) for page in all_pages(self._client.query, self._query()) for item in page]

    def count(self) -> int:
        """One query: a shelf is kept far under the 1 MB a query page reads."""
        return int(self._client.query(**self._query(Select="COUNT"))["Count"])


def saved_reply_shelf(client: DynamoDBClient, table_name: str) -> Shelf[SavedReply]:
    return Shelf(client, table_name, *layout.SAVED_REPLY_SHELF, SavedReply)


class DynamoStoreBook:
    """The brand's stores on one shelf: read together (a chain's hundreds of branches
    fit a few query pages), as the store of a home is chosen among all of them."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._shelf = Shelf(client, table_name, *layout.STORE_SHELF, Store)

    def get(self, store_id: str) -> Store | None:
        return self._shelf.get(store_id)

    def save(self, store: Store, expected_version: int | None) -> None:
        self._shelf.save(store.id, store, expected_version)

    def list(self) -> list[Store]:
        return self._shelf.list()


class DynamoOrderTextBook:
    """The order texts, one per event type, on one shelf."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._shelf = Shelf(client, table_name, *layout.ORDER_TEXT_SHELF, OrderText)

    def get(self, event_type: str) -> OrderText | None:
        return self._shelf.get(event_type)

    def save(self, text: OrderText, expected_version: int | None) -> None:
        self._shelf.save(text.type, text, expected_version)

    def list(self) -> list[OrderText]:
        return self._shelf.list()


class DynamoConsentTextBook:
    """The consent texts on one shelf, each written once."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._shelf = Shelf(client, table_name, *layout.CONSENT_TEXT_SHELF, ConsentText)

    def get(self, text_version: str) -> ConsentText | None:
        return self._shelf.get(text_version)

    def add(self, text: ConsentText) -> None:
        self._shelf.save(text.text_version, text, None)

    def list(self) -> list[ConsentText]:
        return self._shelf.list()


class DynamoPromptBook:
    """The operators' prompts in DynamoDB, over the shipped defaults (an operator's
    prompt with a default's id replaces it)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._shelf = Shelf(client, table_name, *layout.PROMPT_SHELF, Prompt)

    def get(self, prompt_id: str) -> Prompt | None:
        return self._shelf.get(prompt_id) or default_prompts().get(prompt_id)

    def save(self, prompt: Prompt) -> None:
        self._shelf.put(prompt.id, prompt)

    def list(self) -> list[Prompt]:
        stored = {prompt.id: prompt for prompt in self._shelf.list()}
        return sorted({**default_prompts(), **stored}.values(), key=lambda p: p.id)
