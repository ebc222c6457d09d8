"""Use cases: a campaign text's links made short and counted (domain/links.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.errors import RapportError
from chalicelib.domain.ledger import CLICKED
from chalicelib.domain.links import TOKEN, Link, LinkClickedError, new_token, short_url, targets, with_links
from chalicelib.services.ports import Clock, ConversationStore, LinkBook, RunStore
from chalicelib.services.retry import retry_on_conflict


class UnknownLinkError(RapportError, LookupError):
    """No link has that token (never made, or long expired)."""


@dataclass(frozen=True)
class Shortener:
    """Makes each `{link:…}` of a recipient's text a short link of its own."""

    book: LinkBook
    base_url: str
    clock: Clock
    counted: timedelta  # clicks count this long after the text (LINK_COUNTED_DAYS)

    def shorten(self, text: str, run_id: str, phone: str, cell: str | None = None) -> str:
        found = targets(text)
        if not found:
            return text
        now = self.clock.now()
        made = {
            target: Link(
                token=new_token(), target=target, phone=phone, run_id=run_id, cell=cell, created_at=now,
                counted_until=now + self.counted,
            )
            for target in dict.fromkeys(found)
        }  # fmt: skip
        self.book.add(list(made.values()))  # kept before the text goes: a click may come at once
        return with_links(text, lambda target: short_url(self.base_url, made[target].token))


def click(token: str, book: LinkBook, runs: RunStore, store: ConversationStore, clock: Clock) -> str:
    """Where the link goes. Its first click inside the counting window counts once
    for its run and as the recipient's engagement; any other click just redirects."""
    link = book.get(token) if TOKEN.fullmatch(token) else None
    if link is None:
        raise UnknownLinkError(f"no link {token!r}: it may have expired")
    now = clock.now()

    def count() -> None:  # noted and counted together: a click is counted once or not at all
        unit = runs.unit()
        unit.add(book.clicked(token, now), *runs.counted(link.run_id, link.phone, {CLICKED: 1}, link.cell))
        unit.commit()

    try:
        retry_on_conflict(count)
    except LinkClickedError:  # clicked before, or after its window: it only redirects
        return link.target
    _engaged(link.phone, store, now)
    return link.target


def _engaged(phone: str, store: ConversationStore, at: datetime) -> None:
    def attempt() -> None:
        contact = store.get_contact(phone)
        if contact is None:  # erased since
            return
        clicked = contact.engagement.model_copy(update={"last_clicked_at": at})
        store.save_contact(contact.model_copy(update={"engagement": clicked}), contact.version)

    retry_on_conflict(attempt)
