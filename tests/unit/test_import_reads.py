"""An import reads its contacts together (BatchGetItem, a hundred a call) and
writes each on condition that it is still as read: no read per record, and a
number twice in one import is written twice, the second time on a fresh read."""

from __future__ import annotations

from chalicelib.services.campaigns import ContactRecord, import_contacts
from tests.world import World


def test_an_import_reads_its_contacts_in_one_call_and_writes_each_on_that_read() -> None:
    world = World()
    existing = [f"+4477009003{n:02d}" for n in range(2)]
    for phone in existing:
        world.contact(phone, tags=["old"])
    fresh = [f"+4477009004{n:02d}" for n in range(4)]
    records = [ContactRecord(phone=phone, tags=("spring",)) for phone in [*existing, *fresh]]
    records.append(ContactRecord(phone=fresh[0], tags=("twice",)))  # the same number again, in the same import
    calls = world.table.db.calls
    before = dict(calls)
    assert import_contacts(records, world.store, world.stores, world.clock, lambda _phone: ()) == len(records)
    read = {op: calls.get(op, 0) - before.get(op, 0) for op in ("BatchGetItem", "GetItem")}
    assert read == {"BatchGetItem": 1, "GetItem": 1}  # the one read again: the repeated number, after its conflict
    assert world.get_contact(existing[0]).tags == ["old", "spring"]
    assert world.get_contact(fresh[0]).tags == ["spring", "twice"]
