"""moto server with each request handled whole before the next
(`python -m local.aws_emulator -H 127.0.0.1 -p 4566`, moto.server's CLI).

Why: DynamoDB applies every single-item write atomically: two
`ADD in_n :one` on one item always count two. moto server handles requests
on parallel threads without a lock, so two such updates can interleave
inside its Python code and one is lost, and a failed TransactWriteItems
restores a copy of the whole table taken before it began, wiping writes
made meanwhile. Serialising requests under one global lock gives the
emulator DynamoDB's per-item atomicity (and more): tests of concurrent
writers then test our code, not moto's races. Its speed is the emulator's,
not DynamoDB's.

One exception keeps it live: an SQS long poll (ReceiveMessage with a wait)
gives the lock up while it waits for a message, so a sender can add one
meanwhile. Every look at the queue is still made under the lock, as real
SQS answers a long poll with what an instant's short poll would find.

`/moto-api/` (reset, state) is served as moto serves it, serialised too.

TransactWriteItems: moto backs up every table a transaction names with a
deep copy of the whole table before it begins, so each transaction costs
as much as the table is large and the emulator slows as tests add data.
Here it backs up only the items the transaction touches and puts those
back when it is refused: the same all-or-nothing, at the cost of the
transaction's own size.

Stopping: SIGTERM, SIGINT or SIGHUP ends the process at once. It holds
nothing worth saving (all state is in memory), and a clean exit can hang
behind open keep-alive connections and in-flight long polls. With
`--exit-with-parent` it also exits when the process that started it is
gone, so a killed `make run` does not leave port 4566 taken.
"""

from __future__ import annotations

import argparse
import copy
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.sqs.models import Queue
from werkzeug.serving import run_simple

_REQUEST_LOCK = threading.Lock()  # held by the thread whose request moto is processing
_holding = threading.local()


class SerialisedApp:
    """A WSGI app that runs one request at a time, body included."""

    def __init__(self, app: Callable[..., Iterable[bytes]], lock: threading.Lock = _REQUEST_LOCK) -> None:
        self._app = app
        self._lock = lock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            _holding.lock = self._lock
            try:
                result = self._app(environ, start_response)
                try:
                    return list(result)  # a lazy body is produced under the lock too
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            finally:
                _holding.lock = None


_moto_wait_for_messages = Queue.wait_for_messages


def _wait_for_messages_unlocked(self: Queue, timeout: int) -> None:
    """moto's long-poll wait, with this request's lock given up meanwhile (a
    sender needs it to add the message the poll waits for)."""
    lock: threading.Lock | None = getattr(_holding, "lock", None)
    if lock is None:
        _moto_wait_for_messages(self, timeout)
        return
    lock.release()
    try:
        _moto_wait_for_messages(self, timeout)
    finally:
        lock.acquire()


_moto_transact_write_items = DynamoDBBackend.transact_write_items
_ItemBackup = tuple[Table, DynamoType, DynamoType | None, Item | None]


def _touched_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_ItemBackup]:
    """A copy of each item the transaction names, as it is now (None: absent)."""
    backups: list[_ItemBackup] = []
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName", ""))
            if table is None:
                continue  # moto answers for an unknown table itself
            key = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in key:
                continue  # a malformed key: moto refuses it before writing
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            if table.has_range_key and range_value is None:
                continue
            backups.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    return backups


def _restore(backups: list[_ItemBackup]) -> None:
    for table, hash_value, range_value, item in reversed(backups):
        if item is None:
            table.delete_item(hash_value, range_value)
        elif range_value is not None:
            table.items[hash_value][range_value] = item
        else:
            table.items[hash_value] = item  # type: ignore[assignment]


def _table_backup_is_itself(self: Table, _memo: dict[int, Any]) -> Table:
    return self


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems with a backup of the touched items only.

    moto's own whole-table backup becomes the table itself (a deep copy of
    a Table answers itself while this runs, under the request lock), so its
    rollback changes nothing and the items are put back from this backup."""
    backups = _touched_items(self, transact_items) if len(transact_items) <= 100 else []
    Table.__deepcopy__ = _table_backup_is_itself  # type: ignore[attr-defined]
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        _restore(backups)
        raise
    finally:
        del Table.__deepcopy__  # type: ignore[attr-defined]


def _exit_now(signum: int, _frame: object) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if signum in (signal.SIGTERM, signal.SIGINT) else 128 + signum)


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1", help="which host to bind")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the starting process is gone")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto.server: moto builds some URLs with it
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _exit_now)
    if args.exit_with_parent:
        threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    Queue.wait_for_messages = _wait_for_messages_unlocked  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    app = SerialisedApp(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
