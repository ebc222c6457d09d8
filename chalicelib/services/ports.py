"""The interfaces use cases need; adapters and test fakes implement them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from chalicelib.domain.campaign import Campaign
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

    def save_contact(self, contact: Contact, expected_version: int | None) -> None:
        """Create (expected_version None) or replace the contact; ConcurrentUpdateError
        when its version is not the expected one."""
        ...

    def scan_contacts(self, segment: int, total_segments: int) -> Iterator[list[Contact]]:
        """Every contact in one segment of the table, a page at a time (planning only)."""
        ...


class CampaignStore(Protocol):
    def get(self, campaign_id: str) -> Campaign | None: ...

    def save(self, campaign: Campaign, expected_version: int | None) -> None:
        """ConcurrentUpdateError when the stored version is not the expected one."""
        ...

    def list(self) -> list[Campaign]: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
