"""How a contact is laid out in its DynamoDB item, so that texts arriving
together from one number never invalidate each other.

The profile is two parts in one item (`pk = C#<e164>, sk = PROFILE`):

- `doc`, the slow-moving profile as JSON (attributes, tags, home, zones,
  deliverability, prompts ...), replaced only by whole-profile writes that
  check `version` (and `in_n`, so no text is overwritten by them);
- top-level attributes for what every inbound text changes, updated by one
  UpdateItem per text with atomic operations: counters (`ADD`), first-set
  times (`if_not_exists`), the customer's latest word on consent (`said`)
  conditioned on its event time.

So every write that can change what the policy decides about a contact
changes `version` (whole-profile writes: receipts, consent, conversations,
sends) or `in_n` (a text); `unchanged_since` checks both, for a write that
must not act on a stale read (the sender's claim). Writes that change
neither (the marketing reservation, trimming markers) change no decision.

Each applied text leaves a marker `m_<MessageSid>` (its time), so a retried
webhook is recognised without a read; only the latest markers are kept.
Consent changes and answered fields are kept as items of their own
(`K#<time>#<id>`, `F#<time>#<field>#<sid>`), so the profile stays small
however long the history.

Each of a contact's tags also has an index item (`pk = T#<tag>, sk = C#<e164>`),
written and deleted in the same transaction as the profile write that changes
the tags, so a tag's contacts are one Query away and the index never drifts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.table_layout import (
    consent_sk,
    contact_key,
    contact_pk,
    field_sk,
    key,
    sortable,
    tag_key,
)
from chalicelib.domain.contact import ConsentEvent, Contact, Conversation, DeliverabilityState, FieldChange
from chalicelib.domain.inbound import InboundChange

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

DOC = "doc"
MARKER_PREFIX = "m_"
MARKERS_KEPT = 32  # retried webhooks arrive within minutes; a burst of more than this is trimmed
MARKERS_TRIM_AT = 48  # trim in batches, so most texts cost no extra call
WAITING = "0#"  # inbox order: waiting ones first, longest waiting first
ANSWERED = "1#"
# The profile's fields that live outside `doc` (engagement's inbound-side counters,
# consent, the conversation) are left out of it.
# Before the two registers, the standing consent (whoever gave it) was kept
# here: read once more, removed by the next whole-profile write.
LEGACY_CONSENT: dict[str, None] = {"consent": None, "consent_state": None, "consent_at": None}
_OUTSIDE_DOC: Any = {
    "version": True,
    "consent_event": True,  # computed: the one of the two registers that stands
    "customer_consent": True,
    "conversation": True,
    "engagement": {"inbound_count", "last_inbound_at", "unanswered_marketing"},
}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _profile_attributes(contact: Contact) -> dict[str, dict[str, str] | None]:
    """Every attribute a whole-profile write sets; None: it removes it."""
    engagement = contact.engagement
    said = contact.customer_consent
    conversation = contact.conversation
    prompt = contact.pending_prompt
    attributes: dict[str, dict[str, str] | None] = {
        DOC: _s(contact.model_dump_json(exclude=_OUTSIDE_DOC)),
        "contact": _s(contact.phone),  # the sparse index planning scans
        "unanswered": _n(engagement.unanswered_marketing),
        "in_at": _s(sortable(engagement.last_inbound_at)) if engagement.last_inbound_at else None,
        "said": _s(said.model_dump_json()) if said else None,  # the customer's own latest word on consent
        "said_at": _s(sortable(said.at)) if said else None,
        **LEGACY_CONSENT,
        "undeliverable": _s("1") if contact.deliverability.state != DeliverabilityState.OK else None,
        "prompt_until": _s(sortable(prompt.expires_at)) if prompt else None,
    }
    conversation_attributes: dict[str, dict[str, str] | None] = dict.fromkeys(
        ("conv_opened", "conv_in_at", "conv_n", "conv_meta", "conv_waiting", "inbox", "inbox_order")
    )
    if conversation is not None:
        waiting = conversation.waiting_since
        order = WAITING + sortable(waiting) if waiting else ANSWERED + sortable(conversation.last_inbound_at)
        meta = conversation.model_dump_json(include={"agent", "claimed_at", "last_reply_at", "read_count", "read_by"})
        conversation_attributes = {
            "conv_opened": _s(sortable(conversation.opened_at)),
            "conv_in_at": _s(sortable(conversation.last_inbound_at)),
            "conv_n": _n(conversation.message_count),
            "conv_meta": _s(meta),
            "conv_waiting": _s(order) if waiting else None,
            "inbox": _s("open"),  # in the sparse inbox index while open
            "inbox_order": _s(order),
        }
    return {**attributes, **conversation_attributes}


def contact_item(contact: Contact, version: int) -> dict[str, Any]:
    """The whole item, for a first write of a contact (imports, demo data)."""
    present = {name: value for name, value in _profile_attributes(contact).items() if value is not None}
    return {
        **contact_key(contact.phone),
        **present,
        "in_n": _n(contact.engagement.inbound_count),
        "version": _n(version),
    }


def contact_update(
    table: str, contact: Contact, expected_version: int | None, applied_sid: str = "", applied_at: str = ""
) -> TransactWriteItemTypeDef:
    """A whole-profile write: it succeeds only if neither another whole-profile
    write (`version`) nor an inbound text (`in_n`) came since the read. Only
    texts change `in_n`: `applied_sid` names the text this write applies (it is
    counted, and its marker set, once)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {":v": _n(1 if expected_version is None else expected_version + 1)}
    sets, removes, adds = ["version = :v"], [], []
    inbound = contact.engagement.inbound_count
    for index, (name, value) in enumerate(_profile_attributes(contact).items()):
        names[f"#a{index}"] = name
        if value is None:
            removes.append(f"#a{index}")
        else:
            sets.append(f"#a{index} = :a{index}")
            values[f":a{index}"] = value
    conditions = []
    if applied_sid:
        names["#mark"] = MARKER_PREFIX + applied_sid
        sets.append("#mark = :mark")
        adds.append("in_n :one")
        values.update({":mark": _s(applied_at), ":one": _n(1)})
        conditions.append("attribute_not_exists(#mark)")
        inbound -= 1  # what the read saw
    if expected_version is None:
        conditions.append("attribute_not_exists(pk)")
        if not applied_sid:
            sets.append("in_n = :seen")
            values[":seen"] = _n(inbound)
    else:
        conditions += ["version = :expected", "in_n = :seen"]
        values.update({":expected": _n(expected_version), ":seen": _n(inbound)})
    expression = "SET " + ", ".join(sets)
    expression += " REMOVE " + ", ".join(removes) if removes else ""
    expression += " ADD " + ", ".join(adds) if adds else ""
    return {
        "Update": {
            "TableName": table,
            "Key": contact_key(contact.phone),
            "UpdateExpression": expression,
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def unchanged_since(contact: Contact) -> tuple[str, dict[str, Any]]:
    """A condition (and its values) that holds while the stored contact is the
    one read: no whole-profile write (`version`) and no text (`in_n`) since."""
    values = {":seen_version": _n(contact.version), ":seen_in_n": _n(contact.engagement.inbound_count)}
    return "version = :seen_version AND in_n = :seen_in_n", values


def changed_since(item: dict[str, Any], contact: Contact) -> bool:
    """Whether a stored item (say, from a failed condition) is no longer the contact read."""
    stored = (item.get("version", {}).get("N"), item.get("in_n", {}).get("N"))
    return bool(stored != (str(contact.version), str(contact.engagement.inbound_count)))


def text_update(table: str, change: InboundChange, created: Contact, with_consent: bool) -> dict[str, Any]:
    """UpdateItem arguments applying one inbound text without reading the contact.

    Refused (the condition) when the text was applied before (its marker), when
    the number must be marked reachable again, when a live question would read
    the text as its answer, or (with the consent) when a later word of the
    customer's is recorded."""
    sms = change.sms
    at = sortable(sms.at)
    names = {"#mark": MARKER_PREFIX + sms.sid, "#doc": DOC}
    values: dict[str, Any] = {
        ":at": _s(at),
        ":zero": _n(0),
        ":one": _n(1),
        ":phone": _s(sms.phone),
        ":doc": _s(created.model_dump_json(exclude=_OUTSIDE_DOC)),
    }
    sets = [
        "#mark = :at",
        "#doc = if_not_exists(#doc, :doc)",
        "version = if_not_exists(version, :zero)",
        "contact = :phone",
        "in_at = :at",
        "unanswered = :zero",
    ]
    adds = ["in_n :one"]
    conditions = ["attribute_not_exists(#mark)", "attribute_not_exists(undeliverable)"]
    if change.reads_question:
        conditions.append("(attribute_not_exists(prompt_until) OR prompt_until <= :at)")
    consent = change.consent
    if consent is not None and with_consent:  # a text's consent: the customer's own word (Contact)
        sets += ["said = :said", "said_at = :at"]
        values[":said"] = _s(consent.model_dump_json())
        conditions.append("(attribute_not_exists(said_at) OR said_at < :at)")
    if change.converses:
        values[":waiting"] = _s(WAITING + at)
        values[":open"] = _s("open")
        sets += [
            "conv_opened = if_not_exists(conv_opened, :at)",
            "conv_in_at = :at",
            "conv_waiting = if_not_exists(conv_waiting, :waiting)",
            "inbox_order = if_not_exists(conv_waiting, :waiting)",
            "inbox = :open",
        ]
        adds.append("conv_n :one")
    return {
        "TableName": table,
        "Key": contact_key(sms.phone),
        "UpdateExpression": "SET " + ", ".join(sets) + " ADD " + ", ".join(adds),
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_OLD",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def needs_profile(item: dict[str, Any], change: InboundChange) -> bool:
    """Why `text_update` was refused, when it was not a retry: the profile matters."""
    if "undeliverable" in item:
        return True
    until = item.get("prompt_until", {}).get("S")
    return change.reads_question and until is not None and until > sortable(change.sms.at)


def applied_before(item: dict[str, Any], sid: str) -> bool:
    return MARKER_PREFIX + sid in item


def markers_to_trim(item: dict[str, Any]) -> list[str]:
    """The oldest markers, once (with the one just added) there are too many."""
    markers = sorted((value["S"], name) for name, value in item.items() if name.startswith(MARKER_PREFIX))
    if len(markers) + 1 < MARKERS_TRIM_AT:
        return []
    return [name for _, name in markers[: len(markers) + 1 - MARKERS_KEPT]]


def load_contact(item: dict[str, Any]) -> Contact:
    """The profile: `doc` with the attributes texts update laid over it."""
    contact = Contact.model_validate_json(item[DOC]["S"])

    def text(name: str) -> str | None:
        value = item.get(name)
        return str(value["S"]) if value else None

    def number(name: str) -> int:
        value = item.get(name)
        return int(value["N"]) if value else 0

    def moment(name: str) -> datetime | None:
        value = text(name)
        return datetime.fromisoformat(value) if value else None

    engagement = contact.engagement.model_copy(
        update={
            "inbound_count": number("in_n"),
            "last_inbound_at": moment("in_at"),
            "unanswered_marketing": number("unanswered"),
        }
    )
    said, legacy = text("said"), text("consent")
    conversation = None
    opened, last_inbound, waiting = text("conv_opened"), text("conv_in_at"), text("conv_waiting")
    if opened is not None and last_inbound is not None:
        conversation = Conversation.model_validate(
            {
                **json.loads(text("conv_meta") or "{}"),
                "opened_at": opened,
                "last_inbound_at": last_inbound,
                "message_count": number("conv_n"),
                "waiting_since": waiting.removeprefix(WAITING) if waiting else None,
            }
        )
    contact = contact.model_copy(
        update={
            "engagement": engagement,
            "customer_consent": ConsentEvent.model_validate_json(said) if said else None,
            "conversation": conversation,
            "version": number("version"),
        }
    )
    return contact.with_consent(ConsentEvent.model_validate_json(legacy)) if legacy else contact


def consent_item(phone: str, event: ConsentEvent) -> dict[str, Any]:
    who = event.message_sid or event.source
    return {**key(contact_pk(phone), consent_sk(event.at, who)), DOC: _s(event.model_dump_json())}


def tag_changes(table: str, phone: str, before: Iterable[str], after: Iterable[str]) -> list[TransactWriteItemTypeDef]:
    """The tag index's writes for a contact whose tags go from `before` to `after`,
    for the same transaction as the profile's own write."""
    old, new = set(before), set(after)
    puts: list[TransactWriteItemTypeDef] = [
        {"Put": {"TableName": table, "Item": tag_key(tag, phone)}} for tag in sorted(new - old)
    ]
    deletes: list[TransactWriteItemTypeDef] = [
        {"Delete": {"TableName": table, "Key": tag_key(tag, phone)}} for tag in sorted(old - new)
    ]
    return puts + deletes


def tag_items(contact: Contact) -> list[dict[str, Any]]:
    """The tag index's items of a contact written whole (imports of demo data)."""
    return [tag_key(tag, contact.phone) for tag in sorted(set(contact.tags))]


def field_item(phone: str, change: FieldChange) -> dict[str, Any]:
    sk = field_sk(change.at, change.field, change.message_sid or "")
    return {**key(contact_pk(phone), sk), DOC: _s(change.model_dump_json())}
