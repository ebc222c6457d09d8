"""Message templates with safe personalisation: `Hi {first_name|there}`.

Every placeholder names a contact attribute and carries a fallback, checked
when the template is saved, so a missing field can never produce "Hi ,".
The store's fields, `{store_name}` and `{store_phone}`, need none: the sender
fills them from the contact's store (the brand's name for a contact without
one), and a store without a phone reads "us" ("call {store_phone}").
`{link:https://…}` is left as it is: the sender makes it a short link for
each recipient (domain/links.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

from chalicelib.domain import links
from chalicelib.domain.errors import RapportError

_PLACEHOLDER = re.compile(r"\{(?P<field>[a-z][a-z0-9_]*)(?:\|(?P<fallback>[^{}|]*[^{}|\s][^{}|]*))?\}")
STORE_FIELDS = {"store_name": "our store", "store_phone": "us"}  # their fallbacks, if the sender could not fill them
MAX_LENGTH = 1600  # Twilio's limit for one message, all segments
LINK_LENGTH = 80  # a short link counted as this long here: API Gateway's own domain and stage make it ~75


class TemplateError(RapportError, ValueError):
    """A template that could render badly for someone."""


@dataclass(frozen=True)
class Template:
    text: str

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise TemplateError("the message is empty")
        stripped = links.PLACEHOLDER.sub("", _PLACEHOLDER.sub("", self.text))
        bare = [m["field"] for m in _PLACEHOLDER.finditer(self.text) if m["fallback"] is None]
        if "{" in stripped or "}" in stripped or any(name not in STORE_FIELDS for name in bare):
            raise TemplateError(
                "placeholders look like {first_name|there}: a lower-case field name, a bar, and the "
                "(non-empty) fallback used when the field is missing ({store_name} and {store_phone} need none)"
            )
        if len(links.with_links(self.render({}), lambda _target: "x" * LINK_LENGTH)) > MAX_LENGTH:
            raise TemplateError(f"the message is longer than {MAX_LENGTH} characters")

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(match["field"] for match in _PLACEHOLDER.finditer(self.text))

    def missing(self, values: Mapping[str, str]) -> list[str]:
        """The fields these values leave blank, so their fallbacks are used (in the order they appear)."""
        blank = (m["field"] for m in _PLACEHOLDER.finditer(self.text) if not values.get(m["field"], "").strip())
        return list(dict.fromkeys(blank))

    def render(self, values: Mapping[str, str]) -> str:
        def fill(match: re.Match[str]) -> str:
            value = values.get(match["field"], "").strip()
            return value or match["fallback"] or STORE_FIELDS[match["field"]]

        return _PLACEHOLDER.sub(fill, self.text)


def checked(text: str) -> str:
    """The text, if it is a template that renders well for everyone; else TemplateError
    (a ValueError, so pydantic reports it against the field)."""
    Template(text)
    return text


TemplateText = Annotated[str, AfterValidator(checked)]  # a model's field that holds a template
