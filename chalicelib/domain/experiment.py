"""A campaign's control group and variants: who gets which text, decided by a
hash of the number and the campaign (the same person lands in the same group
at every run and on every sender, with nothing stored to look up), and the
cell each text's counts go to (its store and its variant) for the report."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.template import Template

HOLDOUT = "holdout"  # the variant name of the control group: texted nothing, its orders still counted
BRAND = ""  # the store part of a cell for a contact with no store (the brand's own number)
CELL_SEPARATOR = "/"  # never in a store id or a variant id (domain/ids.py)
VARIANT_ID = r"^[a-z0-9][a-z0-9_-]{0,19}$"


class Variant(BaseModel):
    """One of a campaign's messages, sent to a share of its audience by weight."""

    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    id: str = Field(pattern=VARIANT_ID, description="a name for the report: a, b, short_copy")
    message: str = Field(min_length=1, max_length=1600, description="a template: Hi {first_name|there}")
    weight: int = Field(default=1, ge=1, le=100, description="its share against the other variants' weights")

    @field_validator("id")
    @classmethod
    def _not_holdout(cls, variant_id: str) -> str:
        if variant_id == HOLDOUT:
            raise ValueError("'holdout' names the control group (holdout_percent), not a variant")
        return variant_id

    @field_validator("message")
    @classmethod
    def _safe_template(cls, text: str) -> str:
        Template(text)  # raises TemplateError, a ValueError: pydantic reports it
        return text


def _share(phone: str, campaign_id: str, purpose: str) -> float:
    """Where the number falls in [0, 1) for this campaign and purpose: independent
    draws for the control group and the variant, so the split of the rest is even."""
    digest = hashlib.sha256(f"{campaign_id}\x00{purpose}\x00{phone}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def held_out(phone: str, campaign_id: str, percent: float) -> bool:
    """Whether the number is in the campaign's control group (`percent` of numbers)."""
    return percent > 0 and _share(phone, campaign_id, HOLDOUT) * 100 < percent


def variant_of(phone: str, campaign_id: str, variants: Sequence[Variant]) -> Variant | None:
    """The variant the number gets, by the variants' weights (None: the campaign has none)."""
    if not variants:
        return None
    point = _share(phone, campaign_id, "variant") * sum(v.weight for v in variants)
    for variant in variants:
        point -= variant.weight
        if point < 0:
            return variant
    return variants[-1]  # float rounding at the very top


def cell(store_id: str | None, variant: str | None) -> str:
    """The counts' cell of a text: `<store>/<variant>`, either part empty when it has none."""
    return f"{store_id or BRAND}{CELL_SEPARATOR}{variant or ''}"


def cell_parts(name: str) -> tuple[str | None, str | None]:
    """The store and the variant of a cell (None for an empty part)."""
    store, _, variant = name.partition(CELL_SEPARATOR)
    return store or None, variant or None
