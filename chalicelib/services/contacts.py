"""Use cases: find contacts by phone, tag or attribute, a page at a time, and a
tag's contacts for export.

What each costs DynamoDB: an exact phone is one GetItem; a tag is one Query of
the tag index (`T#<tag>` items, kept with the profile in one transaction) and
one BatchGetItem per page, never a scan. Attributes are not indexed (prompt
answers change them on the inbound path, where an index write would cost every
text): an attribute search, and browsing with no criterion, is a bounded scan
of the contacts index, at most SCAN_BUDGET profiles per page, and may answer a
short (even empty) page with a cursor to carry on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import RapportError
from chalicelib.services.ports import ConversationStore

__all__ = ["MAX_EXPORT", "SCAN_BUDGET", "ExportTooLargeError", "Page", "browse", "by_attribute", "by_phone", "by_tag"]

SCAN_BUDGET = 1000  # profiles one attribute-search page may read
MAX_EXPORT = 5000  # contacts one export answers (a Lambda answer is at most 6 MB)
EXPORT_PAGE = 500  # index items read per Query while exporting


class ExportTooLargeError(RapportError, ValueError):
    """The tag has more contacts than one export answers."""


@dataclass(frozen=True)
class Page:
    contacts: list[Contact]
    after: str | None  # the number to carry on after; None: there is no more


def by_phone(e164: str, store: ConversationStore) -> Page:
    contact = store.get_contact(e164)
    return Page([contact] if contact else [], None)


def by_tag(tag: str, store: ConversationStore, limit: int, after: str | None = None) -> Page:
    contacts, more = store.tagged(tag, limit, after)
    return Page(contacts, more)


def by_attribute(name: str, value: str | None, store: ConversationStore, limit: int, after: str | None = None) -> Page:
    """Contacts with the attribute (and, given a value, that value: case and the
    spaces around it aside)."""
    wanted_value = value.strip().casefold() if value is not None else None

    def wanted(contact: Contact) -> bool:
        attribute = contact.attributes.get(name)
        if attribute is None:
            return False
        return wanted_value is None or attribute.value.strip().casefold() == wanted_value

    hint = json.dumps(name, ensure_ascii=False) + ":{"  # how the stored profile names it
    contacts, more = store.find_contacts(wanted, limit, after, SCAN_BUDGET, hint)
    return Page(contacts, more)


def browse(store: ConversationStore, limit: int, after: str | None = None) -> Page:
    """Every contact, a page at a time (a bounded scan)."""
    contacts, more = store.find_contacts(lambda _: True, limit, after, limit)
    return Page(contacts, more)


def export_tag(tag: str, store: ConversationStore) -> list[Contact]:
    """Every contact with the tag, in phone order; ExportTooLargeError past MAX_EXPORT."""
    found: list[Contact] = []
    after: str | None = None
    while True:
        page, after = store.tagged(tag, EXPORT_PAGE, after)
        found.extend(page)
        if len(found) > MAX_EXPORT:
            raise ExportTooLargeError(f"more than {MAX_EXPORT} contacts have this tag: too many for one file")
        if after is None:
            return found
