"""The interfaces use cases need; adapters and test fakes implement them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chalicelib.domain.contact import Contact
from chalicelib.domain.messages import Message


class ConversationStore(Protocol):
    """Contacts and their message threads, with atomic multi-record writes."""

    def get_contact(self, phone: str) -> Contact | None: ...

    def record_inbound(self, contact: Contact, expected_version: int | None, message: Message) -> Message | None:
        """Store a new inbound message and the contact it changed, atomically.

        Returns None when stored, or the message already stored under the same
        sid (a retried webhook) with nothing written. Raises
        ConcurrentUpdateError when the contact's version is not
        `expected_version` (None: the contact must not exist yet).
        """
        ...

    def get_message_and_contact(self, phone: str, sid: str) -> tuple[Message | None, Contact | None]: ...

    def record_receipt(
        self,
        message: Message,
        expected_message_version: int | None,
        contact: Contact | None,
        expected_contact_version: int | None,
    ) -> None:
        """Save a message's new delivery state, and the contact when given,
        atomically; ConcurrentUpdateError when either changed meanwhile."""
        ...

    def thread(self, phone: str, limit: int = 50) -> list[Message]:
        """The contact's messages, newest first."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...
