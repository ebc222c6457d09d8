"""Paces on the table: the next free send time of a run (its campaign's own
cap) or of a sender (a store's number or Messaging Service, shared by every
campaign and order text from it), moved on by one conditional update a text.

  pk = "PACE#<sender>", sk = "PACE"   a sender's pace (its own partition: a
                                      sender's rate is the item's write rate)
A run's pace is `next_slot` on the run item (dynamodb_runs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb_items import number
from chalicelib.adapters.table_layout import sender_pace_key
from chalicelib.adapters.unit_of_work import CONDITION_FAILED, error_code
from chalicelib.domain.errors import ConcurrentUpdateError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SLOT_TRIES = 8  # conditional updates of the pace before giving up (each failure says which one holds)
CATCH_UP_S = 1.0  # a pace this far behind `earliest`, as last seen, is tried as fallen behind first


class DynamoPace:
    """Slots of one kind of pace item. `item_exists`: the pace lives on an item
    that must be there already (a run); else the first slot creates it (a sender)."""

    def __init__(
        self, client: DynamoDBClient, table_name: str, key_of: Callable[[str], dict[str, Any]], item_exists: bool
    ) -> None:
        self._client, self._table, self._key_of = client, table_name, key_of
        self._exists = "attribute_exists(pk) AND " if item_exists else ""
        self._next_slot: dict[str, float] = {}  # each pace item as this container last saw it

    def take(self, name: str, interval_s: float, earliest: float) -> tuple[float, dict[str, Any]]:
        """One conditional update, rarely two: while texts queue up (the pace is
        ahead of `earliest`) the next slot is the pace's, moved on by `interval_s`;
        once the pace has fallen behind, `earliest` itself. Paced senders keep the
        pace ahead, so that is tried first, unless this container last saw it
        well behind (an idle pace). The slot, and the item as it is now."""
        seen = self._next_slot.get(name)
        catch_up = seen is not None and seen < earliest - CATCH_UP_S  # clearly idle since: catch up first
        for _ in range(SLOT_TRIES):
            if catch_up:
                expression, condition = (
                    "SET next_slot = :next",
                    "attribute_not_exists(next_slot) OR next_slot < :earliest",
                )
                values = {":next": number(earliest + interval_s), ":earliest": number(earliest)}
            else:
                expression, condition = "SET next_slot = next_slot + :interval", "next_slot >= :earliest"
                values = {":interval": number(interval_s), ":earliest": number(earliest)}
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key=self._key_of(name),
                    UpdateExpression=expression,
                    ConditionExpression=f"{self._exists}({condition})",
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as error:
                if error_code(error) != CONDITION_FAILED:
                    raise
                old: Any = error.response.get("Item")
                if not old and self._exists:
                    raise LookupError(f"no pace item for {name!r}") from None
                # the pace as the failed try found it says which one holds (unless another sender moves it again)
                catch_up = not old or "next_slot" not in old or float(old["next_slot"]["N"]) < earliest
                continue
            following = float(response["Attributes"]["next_slot"]["N"])
            self._next_slot[name] = following
            return following - interval_s, response["Attributes"]
        raise ConcurrentUpdateError(f"the pace of {name} moved under {SLOT_TRIES} tries")


class DynamoSenderPace:
    """Each sender's pace, shared by every text from it."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._pace = DynamoPace(client, table_name, sender_pace_key, item_exists=False)

    def take_slot(self, sender: str, interval_s: float, earliest: float) -> float:
        return self._pace.take(sender, interval_s, earliest)[0]
