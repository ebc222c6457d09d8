"""ConversationStore on one DynamoDB table (schema in infra/resources.json).

Items, all under the contact's partition so one contact is one partition:
  pk = "C#<e164>", sk = "PROFILE"      the contact (layout: dynamodb_contacts.py)
  pk = "C#<e164>", sk = "M#<sid>"      a message; keyed by sid so a retried
                                        webhook collides instead of duplicating
  pk = "C#<e164>", sk = "K#..." "F#..." consent changes and answered fields
  pk = "C#<e164>", sk = "E#<id>"       notes and interactions
and, outside them, the tag index (written with the profile, one transaction):
  pk = "T#<tag>",  sk = "C#<e164>"      one per tag a contact has
Messages carry `ts` for the `by_time` local index that orders a thread;
contacts carry `contact` for the sparse `contacts` index that planning scans
(so it never reads messages or decisions).

Messages, campaigns and decisions are documents: the model as one
JSON string in `doc`, beside the key, `version` and what indexes, conditions
and TTL need. Reading one is a single pydantic parse instead of a walk over
dozens of typed attributes. Items updated in place (runs, ledger) stay typed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from chalicelib.adapters import table_layout as layout
from chalicelib.adapters.dynamodb_contacts import (
    applied_before,
    consent_item,
    contact_update,
    field_item,
    load_contact,
    markers_to_trim,
    needs_profile,
    tag_changes,
    text_update,
)
from chalicelib.adapters.table_layout import (
    PROFILE,
    SORTABLE_LENGTH,
    contact_key,
    contact_pk,
    entry_key,
    message_key,
    sortable,
    tag_key,
)
from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import ConsentEvent, Contact, FieldChange
from chalicelib.domain.errors import ConcurrentUpdateError, ProfileNeededError, TextAlreadyAppliedError
from chalicelib.domain.inbound import InboundChange
from chalicelib.domain.messages import Message
from chalicelib.domain.prompts import Prompt, default_prompts
from chalicelib.domain.saved_replies import SavedReply
from chalicelib.domain.timeline import ContactHistory, Entry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

THREAD_INDEX = "by_time"
CONTACTS_INDEX = "contacts"
INBOX_INDEX = "inbox"
SCAN_PAGE = 200  # contacts read per Scan call when a search must scan
DOC = "doc"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
DocumentT = TypeVar("DocumentT", bound=BaseModel)


def to_item(model: BaseModel, key: dict[str, Any], version: int, **extra: str) -> dict[str, Any]:
    # through JSON: datetimes become ISO strings, and floats Decimals as DynamoDB needs
    data = json.loads(model.model_dump_json(exclude={"version"}), parse_float=Decimal)
    item = {name: _serializer.serialize(value) for name, value in data.items()}
    item.update(key)
    item["version"] = {"N": str(version)}
    item.update({name: {"S": value} for name, value in extra.items()})
    return item


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def doc_item(model: BaseModel, key: dict[str, Any], version: int, **extra: str) -> dict[str, Any]:
    item = {**key, DOC: {"S": model.model_dump_json(exclude={"version"})}, "version": {"N": str(version)}}
    item.update({name: {"S": value} for name, value in extra.items()})
    return item


def load_doc(model: type[DocumentT], item: dict[str, Any]) -> DocumentT:
    loaded = model.model_validate_json(item[DOC]["S"])
    if "version" in model.model_fields:
        loaded = loaded.model_copy(update={"version": int(item["version"]["N"])})
    return loaded


def message_item(message: Message, version: int) -> dict[str, Any]:
    ts = sortable(message.at)
    return doc_item(message, message_key(message.phone, message.sid), version, ts=f"{ts}#{message.sid}")


def versioned_put(table: str, item: dict[str, Any], expected_version: int | None) -> TransactWriteItemTypeDef:
    if expected_version is None:
        return {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }
    }


def next_version(expected: int | None) -> int:
    return 1 if expected is None else expected + 1


CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELLED = "TransactionCanceledException"


def error_code(error: ClientError) -> str | None:
    """DynamoDB's name for what went wrong (CONDITION_FAILED, TRANSACTION_CANCELLED, a throttle...)."""
    code: str | None = error.response.get("Error", {}).get("Code")
    return code


def _put(client: DynamoDBClient, put: TransactWriteItemTypeDef, what: str) -> None:
    """One conditional put; a failed condition is someone else's newer write."""
    try:
        client.put_item(**put["Put"])
    except ClientError as error:
        raise as_conflict(error, what) from error


def all_pages(read: Callable[..., Any], request: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """Every page of a Query or Scan (raw items), following LastEvaluatedKey."""
    while True:
        page = read(**request)
        yield page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


class DynamoConversationStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

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

    def put_message(self, message: Message) -> Message | None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=message_item(message, version=1),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise
            stored: Any = error.response.get("Item") or self._client.get_item(
                TableName=self._table, Key=message_key(message.phone, message.sid), ConsistentRead=True
            ).get("Item")
            return load_doc(Message, stored)
        return None

    def record_message(self, contact: Contact, expected_version: int | None, message: Message) -> Message | None:
        new_message: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table,
                "Item": message_item(message, version=1),
                "ConditionExpression": "attribute_not_exists(pk)",
                # a duplicate hands back the stored message: no second read
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        try:
            self._client.transact_write_items(
                TransactItems=[new_message, contact_update(self._table, contact, expected_version)]
            )
        except ClientError as error:
            reasons = _cancellation_reasons(error)
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                stored = reasons[0].get("Item") or self._client.get_item(
                    TableName=self._table, Key=message_key(message.phone, message.sid), ConsistentRead=True
                ).get("Item")
                if stored:
                    return load_doc(Message, stored)
            raise as_conflict(error, contact.phone) from error
        return None

    def get_message_and_contact(self, phone: str, sid: str) -> tuple[Message | None, Contact | None]:
        keys: list[Any] = [message_key(phone, sid), contact_key(phone)]
        found: list[dict[str, Any]] = []
        while keys:
            response = self._client.batch_get_item(RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}})
            found.extend(response.get("Responses", {}).get(self._table, []))
            unprocessed: Any = response.get("UnprocessedKeys", {})
            keys = list(unprocessed.get(self._table, {}).get("Keys", []))
        message: Message | None = None
        contact: Contact | None = None
        for item in found:
            if item["sk"]["S"] == PROFILE:
                contact = load_contact(item)
            else:
                message = load_doc(Message, item)
        return message, contact

    def record_receipt(
        self,
        message: Message,
        expected_message_version: int | None,
        contact: Contact | None,
        expected_contact_version: int | None,
    ) -> None:
        message_put = versioned_put(
            self._table, message_item(message, next_version(expected_message_version)), expected_message_version
        )
        if contact is None:
            _put(self._client, message_put, message.sid)
            return
        try:
            self._client.transact_write_items(
                TransactItems=[message_put, contact_update(self._table, contact, expected_contact_version)]
            )
        except ClientError as error:
            raise as_conflict(error, message.sid) from error

    def save_contact(
        self,
        contact: Contact,
        expected_version: int | None,
        applied_sid: str = "",
        applied_at: datetime | None = None,
        tags_before: Sequence[str] | None = None,
    ) -> None:
        at = sortable(applied_at) if applied_at else ""
        write = contact_update(self._table, contact, expected_version, applied_sid, at)
        if tags_before is None and expected_version is None:
            tags_before = ()  # a new contact: none of its tags is indexed yet
        index = [] if tags_before is None else tag_changes(self._table, contact.phone, tags_before, contact.tags)
        try:
            if index:  # the profile and its tag index change together, or neither does
                self._client.transact_write_items(TransactItems=[write, *index])
            else:
                self._client.update_item(**write["Update"])
        except ClientError as error:
            current: Any = error.response.get("Item") or {}
            if index and error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                current = _cancellation_reasons(error)[0].get("Item") or {}
            if applied_sid and applied_before(current, applied_sid):
                raise TextAlreadyAppliedError(applied_sid) from None
            raise as_conflict(error, contact.phone) from error

    def get_contacts(self, phones: Sequence[str]) -> list[Contact]:
        """The contacts of these numbers that exist, in the order asked (BatchGetItem, 100 a call)."""
        found: dict[str, Contact] = {}
        for start in range(0, len(phones), 100):
            keys: list[Any] = [contact_key(phone) for phone in dict.fromkeys(phones[start : start + 100])]
            while keys:
                response = self._client.batch_get_item(
                    RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}}
                )
                for item in response.get("Responses", {}).get(self._table, []):
                    contact = load_contact(item)
                    found[contact.phone] = contact
                unprocessed: Any = response.get("UnprocessedKeys", {})
                keys = list(unprocessed.get(self._table, {}).get("Keys", []))
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

    def add_entry(self, phone: str, entry: Entry) -> bool:
        item = doc_item(entry, entry_key(phone, entry.id), 1)
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error_code(error) == CONDITION_FAILED:
                return False
            raise
        return True

    def entries(self, phone: str) -> list[Entry]:
        return self._read(phone, sk_range=(layout.ENTRY, layout.ENTRY + layout.AFTER_ALL)).entries

    def thread(self, phone: str, limit: int = 50) -> list[Message]:
        response = self._client.query(
            TableName=self._table,
            IndexName=THREAD_INDEX,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": contact_pk(phone)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [load_doc(Message, item) for item in response.get("Items", [])]


class DynamoCampaignStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._shelf = Shelf(client, table_name, *layout.CAMPAIGN_SHELF, Campaign)

    def get(self, campaign_id: str) -> Campaign | None:
        return self._shelf.get(campaign_id)

    def save(self, campaign: Campaign, expected_version: int | None) -> None:
        self._shelf.save(campaign.id, campaign, expected_version)

    def list(self) -> list[Campaign]:
        return self._shelf.list()


def _cancellation_reasons(error: ClientError) -> list[dict[str, Any]]:
    reasons: list[Any] = list(error.response.get("CancellationReasons", []))
    if error_code(error) != TRANSACTION_CANCELLED or not reasons:
        raise error
    return reasons


def as_conflict(error: ClientError, what: str) -> Exception:
    code = error_code(error)
    if code == CONDITION_FAILED:
        return ConcurrentUpdateError(what)
    if code == TRANSACTION_CANCELLED:
        codes = {reason.get("Code") for reason in _cancellation_reasons(error)}
        if codes & {"ConditionalCheckFailed", "TransactionConflict"}:
            return ConcurrentUpdateError(what)
    return error


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
        item = doc_item(doc, self._key(doc_id), next_version(expected_version))
        _put(self._client, versioned_put(self._table, item, expected_version), doc_id)

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
