"""What a campaign run earned: its funnel, read from the counts kept as each
text went, was delivered, answered, clicked or ordered after (never by
reading the run's texts), and its cost at the brand's price per segment."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.errors import RapportError
from chalicelib.domain.ledger import (
    CLICKED,
    DELIVERED,
    FAILED,
    OPTED_OUT,
    ORDERED,
    OUT,
    PLANNED,
    REPLIED,
    REVENUE,
    SEGMENTS,
    UNDELIVERED,
    segments_in,
)
from chalicelib.domain.runs import Run


class PriceListError(RapportError, ValueError):
    """SEGMENT_PRICES that cannot be read."""


def prices_from(text: str) -> dict[str, float]:
    """`GB=0.0463,US=0.0083`: the price of one segment to each country."""
    prices: dict[str, float] = {}
    for part in (piece.strip() for piece in text.split(",") if piece.strip()):
        country, _, value = part.partition("=")
        try:
            price = float(value)
        except ValueError:
            raise PriceListError(f"{part!r}: a country and a price, GB=0.0463") from None
        if len(country.strip()) != 2 or not country.strip().isalpha() or price < 0:
            raise PriceListError(f"{part!r}: a two-letter country and a price of 0 or more, GB=0.0463")
        prices[country.strip().upper()] = price
    return prices


def funnel(run: Run, prices: Mapping[str, float], currency: str) -> dict[str, Any]:
    """The run's funnel, cost and return. Revenue is in each order currency's minor
    units; revenue per unit of cost only for orders in the prices' own currency."""
    counts = run.counts
    by_country = {key.removeprefix(segments_in("")): n for key, n in counts.items() if key.startswith(segments_in(""))}
    priced = {country: n for country, n in by_country.items() if country in prices}
    cost = round(sum(n * prices[country] for country, n in priced.items()), 6)
    revenue = {key.removeprefix(REVENUE): n for key, n in counts.items() if key.startswith(REVENUE)}
    earned = revenue.get(currency)
    return {
        "run_id": run.id,
        "campaign_id": run.campaign_id,
        "planned": counts.get(PLANNED, 0),
        "sent": counts.get(OUT, 0),
        "delivered": counts.get(DELIVERED, 0),
        "failed": counts.get(FAILED, 0) + counts.get(UNDELIVERED, 0),
        "replied_24h": counts.get(REPLIED, 0),
        "opted_out_72h": counts.get(OPTED_OUT, 0),
        "clicked": counts.get(CLICKED, 0),
        "ordered": counts.get(ORDERED, 0),
        "revenue": revenue,
        "segments": counts.get(SEGMENTS, 0),
        "segments_by_country": by_country,
        "unpriced_segments": sum(n for country, n in by_country.items() if country not in prices),
        "cost": cost,
        "cost_currency": currency,
        "revenue_per_cost": round(earned / 100 / cost, 4) if earned is not None and cost else None,
    }


def as_csv(report: Mapping[str, Any]) -> str:
    """One `metric,value` row each; revenue and segments by country as `revenue_GBP`, `segments_GB`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "value"])
    for name, value in report.items():
        if isinstance(value, Mapping):
            prefix = REVENUE if name == "revenue" else segments_in("")
            writer.writerows([f"{prefix}{key}", inner] for key, inner in sorted(value.items()))
        else:
            writer.writerow([name, "" if value is None else value])
    return out.getvalue()
