"""Messages in a contact's thread and what delivery receipts do to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InboundKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    ANSWER = "answer"  # read as the answer to the pending question
    REASKED = "reasked"  # could not be read as its answer: asked once more
    REORDER = "reorder"  # the customer asked to order their usual again (domain/reorder.py)
    JOIN = "join"  # the customer asked to join: asked to confirm with YES (domain/double_opt_in.py)
    CONVERSATION = "conversation"


class DeliveryStatus(StrEnum):
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELED = "canceled"
    READ = "read"


# A status only replaces one of lower rank, so a late "sent" never undoes
# "delivered"; finals share a rank so the first final one stands.
STATUS_RANK = {
    DeliveryStatus.ACCEPTED: 1,
    DeliveryStatus.SCHEDULED: 1,
    DeliveryStatus.QUEUED: 2,
    DeliveryStatus.SENDING: 3,
    DeliveryStatus.SENT: 4,
    DeliveryStatus.DELIVERED: 5,
    DeliveryStatus.UNDELIVERED: 5,
    DeliveryStatus.FAILED: 5,
    DeliveryStatus.CANCELED: 5,
    DeliveryStatus.READ: 6,
}
FINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank >= 5)


class StatusEvent(BaseModel):
    status: DeliveryStatus
    at: datetime
    error_code: int | None = None


class Message(BaseModel):
    sid: str
    phone: str  # the contact's number, whichever direction
    brand_number: str
    direction: Direction
    at: datetime
    body: str = ""
    kind: InboundKind | None = None  # inbound only
    reply: str = ""  # inbound only: the text answered in TwiML, replayed on a retried webhook
    status: DeliveryStatus | None = None  # outbound only
    error_code: int | None = None
    status_events: list[StatusEvent] = Field(default_factory=list)
    run_id: str | None = None  # outbound: the campaign run it belongs to
    cell: str | None = None  # outbound: its store and variant in that run (domain/experiment.py)
    sent_by: str | None = None  # outbound: the API key's name that sent it (an agent's reply, a question)
    version: int = 0

    def has_seen(self, status: DeliveryStatus) -> bool:
        return any(event.status == status for event in self.status_events)

    def with_sent(self, sent: Message) -> Message:
        """This message, stored first by a status callback (its events, no body),
        with what the send knows merged in: the text, when, whose run or agent,
        and the number it went from unless Twilio did not say (a Messaging
        Service picks the number; the callback's `From` then stands)."""
        return self.model_copy(
            update={
                "body": sent.body,
                "at": sent.at,
                "run_id": sent.run_id or self.run_id,
                "cell": sent.cell or self.cell,
                "sent_by": sent.sent_by or self.sent_by,
                "brand_number": sent.brand_number or self.brand_number,
            }
        )
