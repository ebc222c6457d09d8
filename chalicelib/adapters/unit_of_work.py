"""A unit of work on the table: the writes a use case registers, sent together
by `commit()` as one TransactWriteItems, or as a single conditional write when
there is one (cheaper, and its refusal carries the item as it was).

Each write carries its condition and what a refusal of it means (`refused`:
the item as it was -> the error to raise), declared once where the write is
built (the repositories). A refused commit raises the first refused write's
error, or ConcurrentUpdateError when that write says nothing (a version moved)
or two transactions met on an item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.services.ports import Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELLED = "TransactionCanceledException"
TRANSACT_LIMIT = 100  # TransactWriteItems' item limit


def error_code(error: ClientError) -> str | None:
    """DynamoDB's name for what went wrong (CONDITION_FAILED, TRANSACTION_CANCELLED, a throttle...)."""
    code: str | None = error.response.get("Error", {}).get("Code")
    return code


def refusals(error: ClientError, count: int) -> dict[int, dict[str, Any]] | None:
    """Which of `count` writes were refused by their condition (index -> the item as it
    was, empty when DynamoDB did not say), or None when the error is something else."""
    code = error_code(error)
    if code == CONDITION_FAILED and count == 1:
        old: Any = error.response.get("Item", {})
        return {0: dict(old)}
    if code != TRANSACTION_CANCELLED:
        return None
    reasons: list[Any] = list(error.response.get("CancellationReasons", []))
    refused = [(i, reason) for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]
    return {i: dict(reason.get("Item", {})) for i, reason in refused} or None


def _met_another(error: ClientError) -> bool:
    """Another transaction held one of the items (TransactionConflict): retry on a fresh read."""
    reasons: list[Any] = list(error.response.get("CancellationReasons", []))
    return error_code(error) == TRANSACTION_CANCELLED and any(r.get("Code") == "TransactionConflict" for r in reasons)


class DynamoUnitOfWork:
    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._writes: list[Write] = []

    def add(self, *writes: Write) -> None:
        self._writes.extend(writes)

    def commit(self) -> None:
        """Send what was added, all or nothing; nothing to send is no call."""
        writes, self._writes = self._writes, []
        if not writes:
            return
        if len(writes) > TRANSACT_LIMIT:
            raise ValueError(f"{len(writes)} writes: one transaction takes at most {TRANSACT_LIMIT}")
        try:
            write_all(self._client, [_asking_old(write) for write in writes])
        except ClientError as error:
            refused = refusals(error, len(writes))
            if refused is None:
                if _met_another(error):
                    raise ConcurrentUpdateError("another transaction wrote one of these items") from error
                raise
            index, item = min(refused.items())
            refusal = writes[index].refused
            raise (refusal(item) if refusal else ConcurrentUpdateError(_named(writes[index].op))) from None


def write_all(client: DynamoDBClient, ops: list[TransactWriteItemTypeDef]) -> None:
    """One TransactWriteItems, or for one item its single call (cheaper; its refusal carries the old item)."""
    op: Any = ops[0]
    if len(ops) > 1 or "ConditionCheck" in op:  # a lone ConditionCheck has no single-item call
        client.transact_write_items(TransactItems=ops)
    elif "Put" in op:
        client.put_item(**op["Put"])
    elif "Update" in op:
        client.update_item(**op["Update"])
    else:
        client.delete_item(**op["Delete"])


def _asking_old(write: Write) -> TransactWriteItemTypeDef:
    """The op, asking for the item as it was when its refusal needs it."""
    op: TransactWriteItemTypeDef = write.op
    if write.refused is None:
        return op
    kind, body = next(iter(write.op.items()))
    asked: TransactWriteItemTypeDef = {kind: {**body, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}  # type: ignore[misc]
    return asked


def _named(op: TransactWriteItemTypeDef) -> str:
    """The refused item, for the error: its sort key names what it is (not whose: no number in logs)."""
    body: Any = next(iter(op.values()))
    key = body.get("Key") or body.get("Item") or {}
    return str(key.get("sk", {}).get("S", "item"))
