"""Use cases for saved replies: operators create, edit and delete them; agents
list them, filled for the customer they are answering."""

from __future__ import annotations

import logging
import secrets

from chalicelib.domain.errors import ConcurrentUpdateError, RapportError
from chalicelib.domain.saved_replies import MAX_SAVED_REPLIES, SavedReply, SavedReplyText, TooManySavedRepliesError
from chalicelib.services.conversations import UnknownContactError
from chalicelib.services.ports import Clock, ConversationStore, SavedReplyBook
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.stores import StoreDirectory

__all__ = [
    "StaleSavedReplyError",
    "TooManySavedRepliesError",
    "UnknownSavedReplyError",
    "create",
    "delete",
    "filled_for",
    "get",
    "listed",
    "update",
]

log = logging.getLogger(__name__)


class UnknownSavedReplyError(RapportError, LookupError):
    """No saved reply has that id."""


class StaleSavedReplyError(RapportError):
    """If-Match named a version that is no longer the saved reply's (not retried)."""


def listed(book: SavedReplyBook) -> list[SavedReply]:
    """All of them, by name."""
    return sorted(book.list(), key=lambda reply: (reply.name.casefold(), reply.id))


def get(reply_id: str, book: SavedReplyBook) -> SavedReply:
    found = book.get(reply_id)
    if found is None:
        raise UnknownSavedReplyError(f"no saved reply {reply_id!r}")
    return found


def create(text: SavedReplyText, who: str, book: SavedReplyBook, clock: Clock) -> SavedReply:
    """A new saved reply with a new id; refused past MAX_SAVED_REPLIES (two creating
    at once at the limit may both pass: the bound is for people, not a quota)."""
    if book.count() >= MAX_SAVED_REPLIES:
        raise TooManySavedRepliesError(f"there are {MAX_SAVED_REPLIES} saved replies already: delete one first")
    now = clock.now()
    reply = SavedReply(
        **text.model_dump(),
        id=f"sr_{secrets.token_hex(5)}",
        created_at=now,
        created_by=who,
        updated_at=now,
        updated_by=who,
        version=1,
    )
    book.save(reply.id, reply, None)
    return reply


def update(
    reply_id: str, text: SavedReplyText, who: str, if_match: int | None, book: SavedReplyBook, clock: Clock
) -> SavedReply:
    """Replace its name and body. With `if_match` only over that version
    (StaleSavedReplyError otherwise); without, the last write wins."""

    def attempt() -> SavedReply:
        current = get(reply_id, book)
        if if_match is not None and current.version != if_match:
            raise StaleSavedReplyError(f"saved reply {reply_id} is at version {current.version}, not {if_match}")
        changed = current.model_copy(
            update={**text.model_dump(), "updated_at": clock.now(), "updated_by": who, "version": current.version + 1}
        )
        try:
            book.save(reply_id, changed, current.version)
        except ConcurrentUpdateError:
            if if_match is not None:
                raise StaleSavedReplyError(f"saved reply {reply_id} changed meanwhile") from None
            raise  # last write wins: again on a fresh read
        return changed

    return retry_on_conflict(attempt)


def delete(reply_id: str, who: str, book: SavedReplyBook) -> SavedReply:
    deleted = book.delete(reply_id)
    if deleted is None:
        raise UnknownSavedReplyError(f"no saved reply {reply_id!r}")
    log.info("saved reply %s (%s) deleted by %s", reply_id, deleted.name, who)
    return deleted


def filled_for(
    phone: str, store: ConversationStore, book: SavedReplyBook, stores: StoreDirectory
) -> list[tuple[SavedReply, str]]:
    """Every saved reply with its text filled for this contact (and its store)."""
    contact = store.get_contact(phone)
    if contact is None:
        raise UnknownContactError(f"no contact {phone}")
    fields = stores.template_fields(contact)
    return [(reply, reply.text_for(contact, fields)) for reply in listed(book)]
