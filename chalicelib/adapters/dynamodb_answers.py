"""Free-text answers on the table, listed by prompt (domain/reasons.py):

  pk = "ANSWERS#<prompt id>", sk = "A#<sortable at>#<sid>"   one answer (its reasons in `reasons`)
  pk = "ANSWERS#<prompt id>", sk = "COUNTS"                  answers by first reason

An answer and its count are written in one transaction, on condition that the
answer is not there yet: a retried webhook counts nothing twice.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.dynamodb_items import DOC, kept, number, string
from chalicelib.adapters.table_layout import AFTER_ALL, ANSWER, ANSWERS, COUNTS, key, sortable
from chalicelib.domain.errors import RapportError
from chalicelib.domain.reasons import FreeTextAnswer
from chalicelib.services.ports import Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class AnswerKeptError(RapportError):
    """This text's answer is kept already."""


class BadAnswersCursorError(RapportError, ValueError):
    """A cursor this listing did not give."""


class DynamoAnswerBook:
    def __init__(self, client: DynamoDBClient, table_name: str, kept_days: int = 0) -> None:
        self._client = client
        self._table = table_name
        self._kept_days = kept_days  # Retention.answers

    def added(self, answer: FreeTextAnswer) -> list[Write]:
        """The answer and its count, for the unit of work that applies the text (refused
        with AnswerKeptError when this text's answer is kept already)."""
        item = kept(
            {
                **key(f"{ANSWERS}{answer.prompt_id}", f"{ANSWER}{sortable(answer.at)}#{answer.sid}"),
                DOC: string(answer.model_dump_json()),
                "reasons": {"SS": sorted({reason.value for reason in answer.reasons})},
            },
            answer.at,
            self._kept_days,
        )
        return [
            Write({"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                  lambda _: AnswerKeptError(answer.sid)),
            Write({"Update": {
                "TableName": self._table, "Key": key(f"{ANSWERS}{answer.prompt_id}", COUNTS),
                "UpdateExpression": "ADD #reason :one", "ExpressionAttributeValues": {":one": number(1)},
                "ExpressionAttributeNames": {"#reason": answer.reasons[0].value},
            }}),
        ]  # fmt: skip

    def page(
        self, prompt_id: str, reason: str | None, cursor: str | None, limit: int
    ) -> tuple[list[FreeTextAnswer], str | None]:
        """Newest first; with `reason`, those that give it (a page may be short, with a cursor)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": string(f"{ANSWERS}{prompt_id}"), ":low": string(ANSWER), ":high": string(ANSWER + AFTER_ALL),
            },
            "ScanIndexForward": False,
            "Limit": limit,
        }  # fmt: skip
        if reason is not None:
            request["FilterExpression"] = "contains(reasons, :reason)"
            request["ExpressionAttributeValues"][":reason"] = string(reason)
        if cursor is not None:
            request["ExclusiveStartKey"] = _decoded(cursor, prompt_id)
        response = self._client.query(**request)
        answers = [FreeTextAnswer.model_validate_json(item[DOC]["S"]) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return answers, _encoded(last) if last else None

    def counts(self, prompt_id: str) -> dict[str, int]:
        item = self._client.get_item(TableName=self._table, Key=key(f"{ANSWERS}{prompt_id}", COUNTS)).get("Item", {})
        return {name: int(value["N"]) for name, value in sorted(item.items()) if name not in ("pk", "sk")}


def _encoded(last: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(last["sk"]["S"]).encode()).decode().rstrip("=")


def _decoded(cursor: str, prompt_id: str) -> dict[str, Any]:
    try:
        sk = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=="))
        if not isinstance(sk, str) or not sk.startswith(ANSWER):
            raise ValueError(sk)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadAnswersCursorError("cursor: not one this listing gave; start again without it") from None
    return key(f"{ANSWERS}{prompt_id}", sk)
