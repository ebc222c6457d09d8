"""Links that count: a campaign's `{link:https://…}` becomes a short link on the
service's own domain, one per recipient, unguessable and without the number
in it. Its first click is counted for the run and as the customer's
engagement; clicks after its counting window still redirect, uncounted."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel

from chalicelib.domain.errors import RapportError

PLACEHOLDER = re.compile(r"\{link:(?P<target>https?://[^\s{}|]+)\}")
TOKEN_LENGTH = 12  # base62: about 71 bits, never guessed
TOKEN = re.compile(rf"[0-9A-Za-z]{{{TOKEN_LENGTH}}}")
PATH = "/l/"
COUNTED = timedelta(days=30)  # the default counting window (LINK_COUNTED_DAYS)
REDIRECTS = timedelta(days=365)  # after the counting window a link still redirects this long (its TTL)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class LinkClickedError(RapportError):
    """Not a link's first click inside its counting window: nothing to count."""


class Link(BaseModel):
    token: str
    target: str
    phone: str
    run_id: str
    cell: str | None = None  # the text's store and variant (domain/experiment.py): its click counts there
    created_at: datetime
    counted_until: datetime  # clicks after this redirect but are not counted


def new_token() -> str:
    return "".join(secrets.choice(_BASE62) for _ in range(TOKEN_LENGTH))


def targets(text: str) -> list[str]:
    return [match["target"] for match in PLACEHOLDER.finditer(text)]


def short_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}{token}"


def with_links(text: str, url_for: Callable[[str], str]) -> str:
    """The text with each `{link:…}` replaced by `url_for(target)`."""
    return PLACEHOLDER.sub(lambda match: url_for(match["target"]), text)


def plain(text: str) -> str:
    """The text with each link as its target: sent without a shortener, uncounted."""
    return with_links(text, lambda target: target)


def stand_in(text: str, base_url: str) -> str:
    """The text as long as it will be sent: each link as long as its short link
    (what the segment counter and the length limit count)."""
    return with_links(text, lambda _target: short_url(base_url, "x" * TOKEN_LENGTH))


def tokens_in(text: str) -> list[str]:
    """The tokens of short links in a text we sent (erasure finds a recipient's links so)."""
    return re.findall(rf"{re.escape(PATH)}({TOKEN.pattern})(?![0-9A-Za-z])", text)
