"""Finding contacts, on the in-memory fake and on DynamoDB (moto server): the tag
index follows every write that changes tags, in the same write, and a bounded
scan reads no more than its budget and misses no one across its pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.contact import Attribute, Contact
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.services.ports import ConversationStore

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def phone(n: int) -> str:
    return f"+4477009{n:05d}"


def contact(n: int, *tags: str, **attributes: str) -> Contact:
    return Contact(
        phone=phone(n),
        created_at=AT,
        tags=list(tags),
        attributes={name: Attribute(value=value, source="import", updated_at=AT) for name, value in attributes.items()},
    )


def every(store: ConversationStore, tag: str, limit: int) -> list[str]:
    seen: list[str] = []
    after: str | None = None
    while True:
        page, after = store.tagged(tag, limit, after)
        seen += [c.phone for c in page]
        if after is None:
            return seen


def test_a_new_contacts_tags_are_indexed_with_it(store: ConversationStore) -> None:
    for n in (3, 1, 2):
        store.save_contact(contact(n, "vip", "pizza"), None)
    store.save_contact(contact(4, "pizza"), None)
    page, after = store.tagged("vip", 2)
    assert [c.phone for c in page] == [phone(1), phone(2)] and after == phone(2)
    page, after = store.tagged("vip", 2, after)
    assert [c.phone for c in page] == [phone(3)]
    assert every(store, "vip", 2) == [phone(1), phone(2), phone(3)]
    assert every(store, "pizza", 10) == [phone(n) for n in (1, 2, 3, 4)]
    assert store.tagged("burgers", 10) == ([], None)


def test_tags_changed_on_a_write_move_the_index_with_them(store: ConversationStore) -> None:
    store.save_contact(contact(1, "vip", "lapsed"), None)
    current = store.get_contact(phone(1))
    assert current is not None
    changed = current.model_copy(update={"tags": ["vip", "burgers"]})
    store.save_contact(changed, current.version, tags_before=current.tags)
    assert every(store, "lapsed", 10) == []
    assert every(store, "burgers", 10) == [phone(1)]
    assert every(store, "vip", 10) == [phone(1)]


def test_a_refused_write_leaves_the_index_as_it_was(store: ConversationStore) -> None:
    store.save_contact(contact(1, "vip"), None)
    current = store.get_contact(phone(1))
    assert current is not None
    store.save_contact(current, current.version)  # someone else's write meanwhile
    stale = current.model_copy(update={"tags": ["burgers"]})
    with pytest.raises(ConcurrentUpdateError):
        store.save_contact(stale, current.version, tags_before=current.tags)
    assert every(store, "vip", 10) == [phone(1)] and every(store, "burgers", 10) == []


def test_get_contacts_answers_those_that_exist_in_the_order_asked(store: ConversationStore) -> None:
    for n in (1, 2, 3):
        store.save_contact(contact(n), None)
    assert [c.phone for c in store.get_contacts([phone(3), phone(9), phone(1)])] == [phone(3), phone(1)]


def test_a_bounded_scan_reads_at_most_its_budget_and_misses_no_one(store: ConversationStore) -> None:
    for n in range(1, 11):
        store.save_contact(contact(n, shade="blue" if n % 2 else "red"), None)

    def blue(c: Contact) -> bool:
        return c.attributes["shade"].value == "blue"

    seen: list[str] = []
    calls, after = 0, None
    while True:
        page, after = store.find_contacts(blue, 100, after, 3, '"shade":{')
        assert len(page) <= 3
        seen += [c.phone for c in page]
        calls += 1
        if after is None:
            break
    assert sorted(seen) == [phone(n) for n in (1, 3, 5, 7, 9)] and calls >= 4
    page, after = store.find_contacts(blue, 2, None, 100)
    assert len(page) == 2 and after == page[-1].phone
