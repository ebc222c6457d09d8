"""DynamoDB in memory: a dict of items behind the part of the client API the
adapters call, with DynamoDB's condition and update semantics. The adapters run
on it unchanged, so the tests' stores are the real stores: their rules are
written once (in chalicelib/adapters), and the contract suites hold this table
and moto to the same answers.

It reads its keys and indexes from the table in infra/resources.json. Items
are kept as DynamoDB writes them ({"S": ...}, {"N": ...}); every call is
atomic under one lock, as one item's writes (and one transaction) are."""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zlib import crc32

from botocore.exceptions import ClientError

Item = dict[str, Any]
RESOURCES = Path(__file__).resolve().parents[1] / "infra" / "resources.json"


@dataclass(frozen=True)
class Index:
    hash_key: str
    range_key: str | None


def _indexes() -> dict[str | None, Index]:
    resources = json.loads(RESOURCES.read_text())["Resources"]
    table = next(r["Properties"] for r in resources.values() if r.get("Type") == "AWS::DynamoDB::Table")

    def index(schema: list[dict[str, str]]) -> Index:
        keys = {k["KeyType"]: k["AttributeName"] for k in schema}
        return Index(keys["HASH"], keys.get("RANGE"))

    found: dict[str | None, Index] = {None: index(table["KeySchema"])}
    for spec in table.get("GlobalSecondaryIndexes", []) + table.get("LocalSecondaryIndexes", []):
        found[spec["IndexName"]] = index(spec["KeySchema"])
    return found


def _error(code: str, message: str, operation: str, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": message}, **extra}
    return ClientError(response, operation)


def _invalid(message: str) -> ClientError:
    return _error("ValidationException", message, "Validate")


# --- expressions ----------------------------------------------------------------

_TOKEN = re.compile(r"\s*(<>|<=|>=|[=<>(),.+\-\[\]]|[#:]?[A-Za-z_][A-Za-z0-9_]*)")
_MISSING = object()


class _Tokens:
    def __init__(self, text: str, names: dict[str, str], values: dict[str, Any], used: set[str]) -> None:
        self.tokens: list[str] = []
        position = 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            if not match:
                raise _invalid(f"cannot read expression at {text[position:]!r}")
            self.tokens.append(match.group(1))
            position = match.end()
        self.at, self.names, self.values, self.used = 0, names, values, used

    def peek(self, offset: int = 0) -> str | None:
        i = self.at + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.upper() in words

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token.upper() != expected.upper()):
            raise _invalid(f"expected {expected or 'more'} at token {self.at}, found {token!r}")
        self.at += 1
        return token

    def name(self) -> str:
        token = self.take()
        if token.startswith("#"):
            if token not in self.names:
                raise _invalid(f"{token} is not in ExpressionAttributeNames")
            self.used.add(token)
            return self.names[token]
        return token

    def path(self) -> tuple[str, ...]:
        parts = [self.name()]
        while self.peek() == ".":
            self.take(".")
            parts.append(self.name())
        return tuple(parts)

    def value(self) -> Any:
        token = self.take()
        if token not in self.values:
            raise _invalid(f"{token} is not in ExpressionAttributeValues")
        self.used.add(token)
        return self.values[token]


def _get(item: Item | None, path: tuple[str, ...]) -> Any:
    value: Any = {"M": item or {}}
    for part in path:
        if "M" not in value or part not in value["M"]:
            return _MISSING
        value = value["M"][part]
    return value


def _plain(value: Any) -> Any:
    """A typed value as Python compares it (numbers as Decimal)."""
    ((kind, raw),) = value.items()
    if kind == "N":
        return Decimal(raw)
    if kind in ("SS", "BS"):
        return frozenset(raw)
    if kind == "NS":
        return frozenset(Decimal(n) for n in raw)
    if kind == "L":
        return tuple(json.dumps(v, sort_keys=True) for v in raw)
    if kind == "M":
        return json.dumps(raw, sort_keys=True)
    return (kind, raw) if kind in ("NULL", "BOOL") else raw


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is _MISSING or right is _MISSING:
        return op == "<>"
    if op in ("=", "<>"):
        same = next(iter(left)) == next(iter(right)) and _plain(left) == _plain(right)
        return same if op == "=" else not same
    if next(iter(left)) != next(iter(right)) or next(iter(left)) not in ("S", "N", "B"):
        return False
    a, b = _plain(left), _plain(right)
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


class _Condition:
    """condition := or; recursive descent over DynamoDB's condition grammar."""

    def __init__(self, tokens: _Tokens) -> None:
        self.t = tokens

    def parse(self) -> Callable[[Item | None], bool]:
        test = self.disjunction()
        if self.t.peek() is not None:
            raise _invalid(f"unexpected {self.t.peek()!r} in condition")
        return test

    def disjunction(self) -> Callable[[Item | None], bool]:
        parts = [self.conjunction()]
        while self.t.keyword("OR"):
            self.t.take()
            parts.append(self.conjunction())
        return lambda item: any(part(item) for part in parts)

    def conjunction(self) -> Callable[[Item | None], bool]:
        parts = [self.negation()]
        while self.t.keyword("AND"):
            self.t.take()
            parts.append(self.negation())
        return lambda item: all(part(item) for part in parts)

    def negation(self) -> Callable[[Item | None], bool]:
        if self.t.keyword("NOT"):
            self.t.take()
            inner = self.negation()
            return lambda item: not inner(item)
        return self.primary()

    def operand(self) -> Callable[[Item | None], Any]:
        if (self.t.peek() or "").startswith(":"):
            value = self.t.value()
            return lambda _item: value
        path = self.t.path()
        return lambda item: _get(item, path)

    def primary(self) -> Callable[[Item | None], bool]:
        token = (self.t.peek() or "").lower()
        if token == "(":
            self.t.take("(")
            inner = self.disjunction()
            self.t.take(")")
            return inner
        if token in ("attribute_exists", "attribute_not_exists", "begins_with", "contains") and self.t.peek(1) == "(":
            return self.function(token)
        left = self.operand()
        if self.t.keyword("BETWEEN"):
            self.t.take()
            low = self.operand()
            self.t.take("AND")
            high = self.operand()
            return lambda item: _compare(">=", left(item), low(item)) and _compare("<=", left(item), high(item))
        op = self.t.take()
        if op not in ("=", "<>", "<", "<=", ">", ">="):
            raise _invalid(f"unexpected {op!r} in condition")
        right = self.operand()
        return lambda item: _compare(op, left(item), right(item))

    def function(self, name: str) -> Callable[[Item | None], bool]:
        self.t.take()
        self.t.take("(")
        path = self.t.path()
        argument = None
        if name in ("begins_with", "contains"):
            self.t.take(",")
            argument = self.operand()
        self.t.take(")")
        if name == "attribute_exists":
            return lambda item: _get(item, path) is not _MISSING
        if name == "attribute_not_exists":
            return lambda item: _get(item, path) is _MISSING
        assert argument is not None
        if name == "begins_with":

            def begins(item: Item | None) -> bool:
                have, prefix = _get(item, path), argument(item)
                if have is _MISSING or "S" not in have or "S" not in prefix:
                    return False
                return bool(have["S"].startswith(prefix["S"]))

            return begins

        def contains(item: Item | None) -> bool:
            have, wanted = _get(item, path), argument(item)
            if have is _MISSING or wanted is _MISSING:
                return False
            if "S" in have:
                return "S" in wanted and wanted["S"] in have["S"]
            if "L" in have:
                return wanted in have["L"]
            for kind, scalar in (("SS", "S"), ("NS", "N")):
                if kind in have:
                    return scalar in wanted and _plain(wanted) in _plain(have)
            return False

        return contains


def condition(
    text: str | None, names: dict[str, str], values: dict[str, Any], used: set[str]
) -> Callable[[Item | None], bool]:
    if not text:
        return lambda _item: True
    return _Condition(_Tokens(text, names, values, used)).parse()


def _number(value: Any) -> Decimal:
    if value is _MISSING or "N" not in value:
        raise _invalid("an arithmetic operand is not a number")
    return Decimal(value["N"])


def _n(number: Decimal) -> dict[str, str]:
    return {"N": str(number.normalize()) if number != number.to_integral() else str(int(number))}


class _Update:
    """SET / REMOVE / ADD / DELETE clauses, every right-hand side read from the item before the update."""

    def __init__(self, tokens: _Tokens) -> None:
        self.t = tokens

    def parse(self) -> Callable[[Item], Item]:
        steps: list[Callable[[Item, Item], None]] = []
        while self.t.peek() is not None:
            clause = self.t.take().upper()
            while True:
                steps.append(self.action(clause))
                if self.t.peek() != ",":
                    break
                self.t.take(",")

        def apply(before: Item) -> Item:
            after = copy.deepcopy(before)
            for step in steps:
                step(before, after)
            return after

        return apply

    def action(self, clause: str) -> Callable[[Item, Item], None]:
        path = self.t.path()
        if clause == "SET":
            self.t.take("=")
            value = self.sum()

            def assign(before: Item, after: Item) -> None:
                _put_path(after, path, value(before))

            return assign
        if clause == "REMOVE":
            return lambda _before, after: _remove_path(after, path)
        if clause in ("ADD", "DELETE"):
            operand = self.t.value()
            return lambda _before, after: _add(after, path, operand, clause == "DELETE")
        raise _invalid(f"unknown update clause {clause}")

    def sum(self) -> Callable[[Item], Any]:
        left = self.term()
        if self.t.peek() in ("+", "-"):
            sign = self.t.take()
            right = self.term()

            def arithmetic(item: Item) -> Any:
                a, b = _number(left(item)), _number(right(item))
                return _n(a + b if sign == "+" else a - b)

            return arithmetic
        return left

    def term(self) -> Callable[[Item], Any]:
        token = self.t.peek() or ""
        if token.startswith(":"):
            value = self.t.value()
            return lambda _item: value
        if token.lower() in ("if_not_exists", "list_append") and self.t.peek(1) == "(":
            self.t.take()
            self.t.take("(")
            if token.lower() == "if_not_exists":
                path = self.t.path()
                self.t.take(",")
                fallback = self.sum()
                self.t.take(")")
                return lambda item: found if (found := _get(item, path)) is not _MISSING else fallback(item)
            first = self.sum()
            self.t.take(",")
            second = self.sum()
            self.t.take(")")
            return lambda item: {"L": [*_list(first(item)), *_list(second(item))]}
        path = self.t.path()

        def read(item: Item) -> Any:
            found = _get(item, path)
            if found is _MISSING:
                raise _invalid(f"the document path {'.'.join(path)} does not exist")
            return found

        return read


def _list(value: Any) -> list[Any]:
    if value is _MISSING or "L" not in value:
        raise _invalid("list_append needs lists")
    return list(value["L"])


def _parent(item: Item, path: tuple[str, ...]) -> dict[str, Any]:
    parent = item
    for part in path[:-1]:
        child = parent.get(part)
        if child is None or "M" not in child:
            raise _invalid(f"the document path {'.'.join(path)} is invalid for update")
        parent = child["M"]
    return parent


def _put_path(item: Item, path: tuple[str, ...], value: Any) -> None:
    _parent(item, path)[path[-1]] = copy.deepcopy(value)


def _remove_path(item: Item, path: tuple[str, ...]) -> None:
    _parent(item, path).pop(path[-1], None)


def _add(item: Item, path: tuple[str, ...], operand: Any, delete: bool) -> None:
    have = _get(item, path)
    if "N" in operand and not delete:
        total = (Decimal(0) if have is _MISSING else _number(have)) + Decimal(operand["N"])
        _put_path(item, path, _n(total))
        return
    kind = next(iter(operand))
    members = set() if have is _MISSING else set(have[kind])
    members = members - set(operand[kind]) if delete else members | set(operand[kind])
    if members:
        _put_path(item, path, {kind: sorted(members)})
    else:
        _remove_path(item, path)


_Write = tuple[
    dict[tuple[str, str], Item], tuple[str, str], Callable[[Item | None], bool], Callable[[Item | None], Item | None]
]

# --- the table ----------------------------------------------------------------------


class _Table(dict[tuple[str, str], Item]):
    """A table's items by key, and by partition key too: a Query of one partition
    reads that partition, not the whole table (as DynamoDB does), so that tests
    and benchmarks with many items stay fast."""

    def __init__(self) -> None:
        super().__init__()
        self.partitions: dict[str, dict[tuple[str, str], Item]] = {}

    def __setitem__(self, key: tuple[str, str], item: Item) -> None:
        super().__setitem__(key, item)
        self.partitions.setdefault(key[0], {})[key] = item

    def pop(self, key: tuple[str, str], default: Any = None) -> Any:
        partition = self.partitions.get(key[0], {})
        partition.pop(key, None)
        if not partition:
            self.partitions.pop(key[0], None)
        return super().pop(key, default)


HASH_EQUALS = re.compile(r"^\s*(#?\w+)\s*=\s*(:\w+)")  # a key condition's first clause: `pk = :pk`


class MemoryDynamoDB:
    """One client, any number of tables (each created with `create_table(name)`)."""

    def __init__(self) -> None:
        self._tables: dict[str, _Table] = {}
        self._indexes = _indexes()
        self._lock = threading.RLock()
        self.calls: dict[str, int] = {}

    def create_table(self, name: str) -> str:
        self._tables.setdefault(name, _Table())
        return name

    def stored(self, table: str, key: tuple[str, str]) -> Item | None:
        """One item as stored, uncounted (for benchmarks that price what a call wrote)."""
        with self._lock:
            return self._table(table).get(key)

    def items(self, table: str) -> list[Item]:
        """Every item of a table, as stored (for tests that look inside)."""
        with self._lock:
            return [copy.deepcopy(item) for _, item in sorted(self._tables[table].items())]

    def _table(self, name: str) -> _Table:
        if name not in self._tables:
            raise _error("ResourceNotFoundException", f"no table {name}", "GetItem")
        return self._tables[name]

    def _key(self, key: Item) -> tuple[str, str]:
        table = self._indexes[None]
        if set(key) != {table.hash_key, table.range_key}:
            raise _invalid("the key must be exactly the table's key")
        return key[table.hash_key]["S"], key[str(table.range_key)]["S"]

    def _count(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1

    # reads

    def get_item(self, TableName: str, Key: Item, **_options: Any) -> dict[str, Any]:  # noqa: N803
        """Every read here is consistent (ConsistentRead changes nothing)."""
        with self._lock:
            self._count("GetItem")
            item = self._table(TableName).get(self._key(Key))
            return {"Item": copy.deepcopy(item)} if item is not None else {}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        with self._lock:
            self._count("BatchGetItem")
            responses: dict[str, list[Item]] = {}
            for name, request in RequestItems.items():
                keys = [self._key(key) for key in request["Keys"]]
                if len(set(keys)) != len(keys):
                    raise _invalid("Provided list of item keys contains duplicates")
                table = self._table(name)
                responses[name] = [copy.deepcopy(table[key]) for key in keys if key in table]
            return {"Responses": responses, "UnprocessedKeys": {}}

    def query(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            self._count("Query")
            used: set[str] = set()
            names, values = request.get("ExpressionAttributeNames", {}), request.get("ExpressionAttributeValues", {})
            index = self._indexes[request.get("IndexName")]
            matches = condition(request["KeyConditionExpression"], names, values, used)
            partition = self._in_partition(request, index, names, values)
            searched = self._in_index(request["TableName"], index) if partition is None else partition
            candidates = [item for item in searched if matches(item)]
            forward = request.get("ScanIndexForward", True)
            candidates.sort(key=lambda item: self._order(index, item), reverse=not forward)
            return self._page(candidates, index, request, names, values, used, forward)

    def scan(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            self._count("Scan")
            used: set[str] = set()
            names, values = request.get("ExpressionAttributeNames", {}), request.get("ExpressionAttributeValues", {})
            index = self._indexes[request.get("IndexName")]
            segment, total = request.get("Segment", 0), request.get("TotalSegments", 1)
            candidates = [
                item
                for item in self._in_index(request["TableName"], index)
                if crc32(json.dumps(item[index.hash_key]).encode()) % total == segment
            ]
            candidates.sort(key=lambda item: self._order(index, item))
            return self._page(candidates, index, request, names, values, used, forward=True)

    def _in_partition(
        self, request: dict[str, Any], index: Index, names: dict[str, str], values: dict[str, Any]
    ) -> list[Item] | None:
        """The items of the one table partition the key condition names (the table's, or a
        local index's: the same partitions); None for a global index's Query."""
        found = HASH_EQUALS.match(request["KeyConditionExpression"])
        if index.hash_key != self._indexes[None].hash_key or found is None:
            return None
        name, placeholder = names.get(found[1], found[1]), found[2]
        if name != index.hash_key or "S" not in values.get(placeholder, {}):
            return None
        partition = self._table(request["TableName"]).partitions.get(values[placeholder]["S"], {})
        return [item for item in partition.values() if index.range_key is None or index.range_key in item]

    def _in_index(self, table: str, index: Index) -> Iterator[Item]:
        for item in self._table(table).values():
            if index.hash_key in item and (index.range_key is None or index.range_key in item):
                yield item

    def _order(self, index: Index, item: Item) -> tuple[Any, ...]:
        table = self._indexes[None]
        keys = [index.hash_key, index.range_key, table.hash_key, table.range_key]
        return tuple(_plain(item[k]) for k in keys if k is not None)

    def _page(
        self,
        candidates: list[Item],
        index: Index,
        request: dict[str, Any],
        names: dict[str, str],
        values: dict[str, Any],
        used: set[str],
        forward: bool,
    ) -> dict[str, Any]:
        keep = condition(request.get("FilterExpression"), names, values, used)
        self._all_used(names, values, used)
        start = request.get("ExclusiveStartKey")
        if start is not None:  # where the last page stopped, whether or not that item is still there
            mark = self._order(index, start)
            candidates = [item for item in candidates if (self._order(index, item) > mark) is forward]
            candidates = [item for item in candidates if self._order(index, item) != mark]
        limit = request.get("Limit")
        evaluated = candidates if limit is None else candidates[:limit]
        found = [copy.deepcopy(item) for item in evaluated if keep(item)]
        response: dict[str, Any] = {"Count": len(found), "ScannedCount": len(evaluated)}
        if request.get("Select") != "COUNT":
            response["Items"] = found
        if limit is not None and len(candidates) > limit:
            last = evaluated[-1]
            table = self._indexes[None]
            key_names = {index.hash_key, index.range_key, table.hash_key, table.range_key}
            response["LastEvaluatedKey"] = {k: copy.deepcopy(last[k]) for k in key_names if k is not None}
        return response

    @staticmethod
    def _all_used(names: dict[str, str], values: dict[str, Any], used: set[str]) -> None:
        unused = (set(names) | set(values)) - used
        if unused:
            raise _invalid(f"Value provided in ExpressionAttributeNames/Values unused in expressions: {sorted(unused)}")

    # writes

    def _planned(self, kind: str, spec: dict[str, Any]) -> _Write:
        """One write, checked and not yet done: its table, key, condition and what it makes of the item."""
        used: set[str] = set()
        names, values = spec.get("ExpressionAttributeNames", {}), spec.get("ExpressionAttributeValues", {})
        table = self._table(spec["TableName"])
        holds = condition(spec.get("ConditionExpression"), names, values, used)
        change: Callable[[Item | None], Item | None]
        if kind == "Put":
            item = copy.deepcopy(spec["Item"])
            key = self._key({k: item[k] for k in ("pk", "sk") if k in item})
            change = lambda _old: item  # noqa: E731
        else:
            key = self._key(spec["Key"])
            if kind == "Update":
                update = _Update(_Tokens(spec["UpdateExpression"], names, values, used)).parse()
                base = copy.deepcopy(spec["Key"])
                change = lambda old: update(old if old is not None else base)  # noqa: E731
            elif kind == "Delete":
                change = lambda _old: None  # noqa: E731
            else:
                change = lambda old: old  # noqa: E731
        self._all_used(names, values, used)
        return table, key, holds, change

    def _single(self, kind: str, operation: str, spec: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._count(operation)
            table, key, holds, change = self._planned(kind, spec)
            old = table.get(key)
            if not holds(old):
                shown = old and spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                extra = {"Item": copy.deepcopy(old)} if shown else {}
                raise _error("ConditionalCheckFailedException", "The conditional request failed", operation, **extra)
            new = change(old)
            if new is None:
                table.pop(key, None)
            else:
                table[key] = new
            wanted = spec.get("ReturnValues", "NONE")
            shown = {"ALL_OLD": old, "ALL_NEW": new}.get(wanted)
            return {"Attributes": copy.deepcopy(shown)} if shown else {}

    def put_item(self, **spec: Any) -> dict[str, Any]:
        return self._single("Put", "PutItem", spec)

    def update_item(self, **spec: Any) -> dict[str, Any]:
        return self._single("Update", "UpdateItem", spec)

    def delete_item(self, **spec: Any) -> dict[str, Any]:
        return self._single("Delete", "DeleteItem", spec)

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        with self._lock:
            self._count("TransactWriteItems")
            planned = []
            for write in TransactItems:
                ((kind, spec),) = write.items()
                planned.append((kind, spec, *self._planned("Check" if kind == "ConditionCheck" else kind, spec)))
            keys = [(id(table), key) for _, _, table, key, _, _ in planned]
            if len(set(keys)) != len(keys):
                raise _invalid("Transaction request cannot include multiple operations on one item")
            reasons: list[dict[str, Any]] = []
            for _, spec, table, key, holds, _ in planned:
                old = table.get(key)
                if holds(old):
                    reasons.append({"Code": "None"})
                    continue
                reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
                if old and spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                    reason["Item"] = copy.deepcopy(old)
                reasons.append(reason)
            if any(reason["Code"] != "None" for reason in reasons):
                raise _error(
                    "TransactionCanceledException",
                    "Transaction cancelled",
                    "TransactWriteItems",
                    CancellationReasons=reasons,
                )
            for _, _, table, key, _, change in planned:
                new = change(table.get(key))
                if new is None:
                    table.pop(key, None)
                else:
                    table[key] = new
            return {}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:  # noqa: N803
        with self._lock:
            self._count("BatchWriteItem")
            for name, requests in RequestItems.items():
                if len(requests) > 25:
                    raise _invalid("Too many items requested for the BatchWriteItem call")
                table = self._table(name)
                for request in requests:
                    if "PutRequest" in request:
                        item = copy.deepcopy(request["PutRequest"]["Item"])
                        table[self._key({"pk": item["pk"], "sk": item["sk"]})] = item
                    else:
                        table.pop(self._key(request["DeleteRequest"]["Key"]), None)
            return {"UnprocessedItems": {}}
