"""In-memory stand-ins for the ports, held to the same contract tests as the real adapters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.messages import Message


class InMemoryConversationStore:
    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self.messages: dict[tuple[str, str], Message] = {}

    def get_contact(self, phone: str) -> Contact | None:
        return self.contacts.get(phone)

    def _check(self, current: Contact | Message | None, expected_version: int | None, what: str) -> None:
        if (current.version if current else None) != expected_version:
            raise ConcurrentUpdateError(what)

    def record_inbound(self, contact: Contact, expected_version: int | None, message: Message) -> Message | None:
        earlier = self.messages.get((message.phone, message.sid))
        if earlier is not None:
            return earlier
        self._check(self.contacts.get(contact.phone), expected_version, contact.phone)
        self.messages[(message.phone, message.sid)] = message.model_copy(update={"version": 1})
        self.contacts[contact.phone] = contact.model_copy(update={"version": (expected_version or 0) + 1})
        return None

    def get_message_and_contact(self, phone: str, sid: str) -> tuple[Message | None, Contact | None]:
        return self.messages.get((phone, sid)), self.contacts.get(phone)

    def record_receipt(
        self,
        message: Message,
        expected_message_version: int | None,
        contact: Contact | None,
        expected_contact_version: int | None,
    ) -> None:
        key = (message.phone, message.sid)
        self._check(self.messages.get(key), expected_message_version, message.sid)
        if contact is not None:
            self._check(self.contacts.get(contact.phone), expected_contact_version, contact.phone)
            self.contacts[contact.phone] = contact.model_copy(update={"version": (expected_contact_version or 0) + 1})
        self.messages[key] = message.model_copy(update={"version": (expected_message_version or 0) + 1})

    def save_contact(self, contact: Contact, expected_version: int | None) -> None:
        self._check(self.contacts.get(contact.phone), expected_version, contact.phone)
        self.contacts[contact.phone] = contact.model_copy(update={"version": (expected_version or 0) + 1})

    def scan_contacts(self, segment: int, total_segments: int) -> Iterator[list[Contact]]:
        yield [c for i, c in enumerate(self.contacts.values()) if i % total_segments == segment]

    def thread(self, phone: str, limit: int = 50) -> list[Message]:
        mine = [m for (p, _), m in self.messages.items() if p == phone]
        return sorted(mine, key=lambda m: (m.at, m.sid), reverse=True)[:limit]


class InMemoryCampaignStore:
    def __init__(self) -> None:
        self.campaigns: dict[str, Campaign] = {}

    def get(self, campaign_id: str) -> Campaign | None:
        return self.campaigns.get(campaign_id)

    def save(self, campaign: Campaign, expected_version: int | None) -> None:
        current = self.campaigns.get(campaign.id)
        if (current.version if current else None) != expected_version:
            raise ConcurrentUpdateError(campaign.id)
        self.campaigns[campaign.id] = campaign.model_copy(update={"version": (expected_version or 0) + 1})

    def list(self) -> list[Campaign]:
        return list(self.campaigns.values())


class StepClock:
    """A clock that moves forward a little on every reading."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)) -> None:
        self.current = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current
