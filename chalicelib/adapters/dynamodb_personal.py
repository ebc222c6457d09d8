"""Everything the table holds that names one number, read whole or erased
(docs/privacy.md lists each item and what export and erasure do to it):

  pk = C#<e164>, every sk                       the profile, messages, consent trail, answered
                                                fields, notes and interactions, orders,
                                                decisions, ledger entries
  pk = T#<tag>, sk = C#<e164>                   the tag index, one per tag on the profile
  pk = H#<minute>#<shard>, sk = <run id>#<e164> a held text: found from the held decisions
  pk = P#<run id>#<shard>, sk = <e164>#<minute> the same, held for a pause
  pk = ANSWERS#<prompt>, sk = A#<at>#<sid>      a free-text answer: found from the answer texts
  pk = LINK#<token>, sk = L                     a short link: found in the texts sent to it
  pk = X#<keyed hash>, sk = X                   all that erasure keeps of an opted-out number
  pk = X#ANY, sk = X                            that there is one: until then no number is looked up

Items are found before anything is deleted, and deleted in an order that a
second erasure can finish: the suppression first, then what is found from the
contact's own items, then those items, the profile last.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.adapters import table_layout as layout
from chalicelib.adapters.dynamodb_contacts import load_contact
from chalicelib.adapters.dynamodb_items import DOC, all_pages, from_item, items_at, string
from chalicelib.domain.links import tokens_in
from chalicelib.domain.messages import Direction, InboundKind
from chalicelib.domain.runs import DecisionRecord, Hold, minute_of
from chalicelib.services.ports import HeldAbout

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH = 25  # BatchWriteItem's limit
SUPPRESSED = "X#"
ANY_SUPPRESSED = layout.key(f"{SUPPRESSED}ANY", "X")  # written with the first: before it, no key is ever needed
KINDS = {  # a contact partition's sort-key prefixes, by what the export calls them
    layout.MESSAGE: "messages",
    layout.CONSENT: "consent_history",
    layout.FIELD: "answered_fields",
    layout.ENTRY: "notes_and_interactions",
    layout.ORDER: "orders",
    layout.DECISION: "decisions",
    layout.LEDGER: "sends",
}


class DynamoPersonalData:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._any = False

    def held(self, phone: str, prompt_ids: Sequence[str]) -> HeldAbout:
        own = self._own(phone)
        found = HeldAbout(phone=phone)
        for item in own:
            sk = item["sk"]["S"]
            if sk == layout.PROFILE:
                found.profile = load_contact(item).model_dump(mode="json")
                continue
            kind = next((name for prefix, name in KINDS.items() if sk.startswith(prefix)), "other")
            found.items.setdefault(kind, []).append(_plain(item))
        for item in self._derived(phone, own, prompt_ids):
            pk = item["pk"]["S"]
            if pk.startswith(layout.ANSWERS):
                found.items.setdefault("free_text_answers", []).append(_plain(item))
            elif pk.startswith(layout.LINK):
                found.items.setdefault("links", []).append(_plain(item))
            elif not pk.startswith(layout.TAG):  # the tags are on the profile already
                found.items.setdefault("held_texts", []).append(_plain(item))
        return found

    def erase(self, phone: str, prompt_ids: Sequence[str], suppress: str | None, at: datetime) -> int:
        own = self._own(phone)
        derived = self._derived(phone, own, prompt_ids)
        if suppress is not None:  # first: a crash after it still leaves the number suppressed
            self._client.put_item(TableName=self._table, Item=ANY_SUPPRESSED)
            self._any = True
            item = {**layout.key(f"{SUPPRESSED}{suppress}", "X"), "erased_at": string(at.isoformat())}
            self._client.put_item(TableName=self._table, Item=item)
        profile = [item for item in own if item["sk"]["S"] == layout.PROFILE]
        rest = [item for item in own if item["sk"]["S"] != layout.PROFILE]
        for group in (derived, rest, profile):  # the profile last: what finds the others goes last
            self._delete(item for item in group)
        return len(derived) + len(own)

    def any_suppressed(self) -> bool:
        if not self._any:  # once there is one there always is: not read again
            self._any = "Item" in self._client.get_item(TableName=self._table, Key=ANY_SUPPRESSED)
        return self._any

    def suppressed_since(self, digest: str) -> datetime | None:
        key = layout.key(f"{SUPPRESSED}{digest}", "X")
        item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return datetime.fromisoformat(item["erased_at"]["S"]) if item else None

    def _own(self, phone: str) -> list[dict[str, Any]]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": string(layout.contact_pk(phone))},
            "ConsistentRead": True,
        }
        return [item for page in all_pages(self._client.query, request) for item in page]

    def _derived(self, phone: str, own: list[dict[str, Any]], prompt_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The items elsewhere that name the number, found from its own: the tag
        index (the profile's tags), held texts (its held decisions), free-text
        answers (its answer texts, under every prompt that could have asked),
        short links (the texts sent to it)."""
        keys: list[dict[str, Any]] = []
        for item in own:
            sk = item["sk"]["S"]
            if sk == layout.PROFILE:
                keys += [layout.tag_key(tag, phone) for tag in load_contact(item).tags]
            elif sk.startswith(layout.DECISION):
                keys += self._holds(phone, json.loads(item[DOC]["S"]))
            elif sk.startswith(layout.MESSAGE):
                message = json.loads(item[DOC]["S"])
                if message.get("direction") == Direction.OUTBOUND:  # its short links, each the recipient's own
                    keys += [layout.link_key(token) for token in tokens_in(message.get("body", ""))]
                if message.get("direction") == Direction.INBOUND and message.get("kind") == InboundKind.ANSWER:
                    answer = f"{layout.ANSWER}{layout.sortable(datetime.fromisoformat(message['at']))}#{message['sid']}"
                    keys += [layout.key(f"{layout.ANSWERS}{prompt_id}", answer) for prompt_id in prompt_ids]
        return [item for item in self._existing(keys) if _names(item, phone)]

    def _holds(self, phone: str, decision: dict[str, Any]) -> list[dict[str, Any]]:
        """A held decision's hold, under each minute it could be filed at (its
        `until`, or the minute after the decision), and any parked for a pause."""
        record = DecisionRecord.model_validate(decision)
        if record.until is None:
            return []
        shard = Hold(record.run_id, record.campaign_id, phone, record.until, record.until).shard
        parked_pk = layout.parked_pk(record.run_id, shard)
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :phone)",
            "ExpressionAttributeValues": {":pk": string(parked_pk), ":phone": string(f"{phone}#")},
        }
        parked = [item for page in all_pages(self._client.query, request) for item in page]
        minutes = {minute_of(record.until), minute_of(record.at) + timedelta(minutes=1)}
        minutes |= {minute_of(record.at) + timedelta(minutes=2)}  # the filing read the clock a moment later
        minutes |= {datetime.fromisoformat(item["minute"]["S"]) for item in parked if "minute" in item}
        holds = [layout.hold_key(minute, shard, record.run_id, phone) for minute in minutes]
        return holds + [layout.key(item["pk"]["S"], item["sk"]["S"]) for item in parked]

    def _existing(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items of these keys that exist."""
        return items_at(self._client, self._table, keys)

    def _delete(self, items: Iterable[dict[str, Any]]) -> None:
        requests: list[Any] = [{"DeleteRequest": {"Key": layout.key(i["pk"]["S"], i["sk"]["S"])}} for i in items]
        for start in range(0, len(requests), BATCH):
            pending = requests[start : start + BATCH]
            while pending:
                response = self._client.batch_write_item(RequestItems={self._table: pending})
                pending = list(response.get("UnprocessedItems", {}).get(self._table, []))


def _names(item: dict[str, Any], phone: str) -> bool:
    """Whether a found item is this number's (a link found in a text is checked: only its recipient's goes)."""
    return not item["pk"]["S"].startswith(layout.LINK) or json.loads(item[DOC]["S"])["phone"] == phone


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """An item as JSON: its document when it has one, else its attributes (keys aside)."""
    if DOC in item:
        loaded: dict[str, Any] = json.loads(item[DOC]["S"])
        return loaded
    return {name: _json_safe(value) for name, value in from_item(item).items() if name not in ("pk", "sk")}


def _json_safe(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(_json_safe(element) for element in value)
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):  # a Decimal
        return int(value) if value == int(value) else float(value)
    return value
