"""Saved replies: an operator's canned answer that agents put in the reply box.

Its body is a template (`Hi {first_name|there}, ...`), checked when it is saved
and filled for the customer of the conversation by the same code that fills a
campaign's text (`contact.fill_for`), so an agent sees exactly what will go.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from chalicelib.domain.contact import Contact, fill_for
from chalicelib.domain.errors import RapportError
from chalicelib.domain.template import TemplateText

MAX_SAVED_REPLIES = 100  # a picker of more is not read; one partition holds them all
NAME_MAX = 60
BODY_MAX = 1000  # filled, it must still fit one text (1600 characters, template.MAX_LENGTH)


class TooManySavedRepliesError(RapportError):
    """There are MAX_SAVED_REPLIES already."""


class SavedReplyText(BaseModel):
    """What an operator writes: a name for the picker and the body."""

    name: str = Field(min_length=1, max_length=NAME_MAX, description="what the picker shows")
    body: TemplateText = Field(
        min_length=1,
        max_length=BODY_MAX,
        description="the text; placeholders `{field|fallback}` name a contact attribute and a non-empty fallback",
    )

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("the name is blank")
        return name.strip()


class SavedReply(SavedReplyText):
    id: str
    created_at: datetime
    created_by: str  # the API key's name
    updated_at: datetime
    updated_by: str
    version: int = 0  # for If-Match

    def text_for(self, contact: Contact, store: Mapping[str, str]) -> str:
        """The body filled for this customer (and its store's fields), as the campaigns fill theirs."""
        return fill_for(self.body, contact, store)
