"""Message templates with safe personalisation: `Hi {first_name|there}`.

Every placeholder names a contact attribute and carries a fallback, checked
when the template is saved, so a missing field can never produce "Hi ,".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.domain.errors import RapportError

_PLACEHOLDER = re.compile(r"\{(?P<field>[a-z][a-z0-9_]*)\|(?P<fallback>[^{}|]*[^{}|\s][^{}|]*)\}")
MAX_LENGTH = 1600  # Twilio's limit for one message, all segments


class TemplateError(RapportError, ValueError):
    """A template that could render badly for someone."""


@dataclass(frozen=True)
class Template:
    text: str

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise TemplateError("the message is empty")
        stripped = _PLACEHOLDER.sub("", self.text)
        if "{" in stripped or "}" in stripped:
            raise TemplateError(
                "placeholders look like {first_name|there}: a lower-case field name, a bar, and the "
                "(non-empty) fallback used when the field is missing"
            )
        if len(self.render({})) > MAX_LENGTH:
            raise TemplateError(f"the message is longer than {MAX_LENGTH} characters")

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(match["field"] for match in _PLACEHOLDER.finditer(self.text))

    def render(self, values: Mapping[str, str]) -> str:
        def fill(match: re.Match[str]) -> str:
            value = values.get(match["field"], "").strip()
            return value or match["fallback"]

        return _PLACEHOLDER.sub(fill, self.text)
