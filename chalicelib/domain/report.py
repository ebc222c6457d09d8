"""What a campaign run earned: its funnel, read from the counts kept as each
text went, was delivered, answered, clicked or ordered after (never by
reading the run's texts), and its cost at the brand's price per segment."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.errors import RapportError
from chalicelib.domain.experiment import HOLDOUT, cell_parts
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


def funnel(counts: Mapping[str, int], prices: Mapping[str, float], currency: str) -> dict[str, Any]:
    """A funnel, cost and return from counts. Revenue is in each order currency's minor
    units; revenue per unit of cost only for orders in the prices' own currency."""
    by_country = {key.removeprefix(segments_in("")): n for key, n in counts.items() if key.startswith(segments_in(""))}
    priced = {country: n for country, n in by_country.items() if country in prices}
    cost = round(sum(n * prices[country] for country, n in priced.items()), 6)
    revenue = _revenue(counts)
    earned = revenue.get(currency)
    return {
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


def _revenue(counts: Mapping[str, int]) -> dict[str, int]:
    return {key.removeprefix(REVENUE): n for key, n in counts.items() if key.startswith(REVENUE)}


def _summed(cells: Iterable[Mapping[str, int]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for counts in cells:
        total.update(counts)
    return total


def run_report(
    run: Run, cells: Mapping[str, Mapping[str, int]], prices: Mapping[str, float], currency: str
) -> dict[str, Any]:
    """The run's funnel (its texted audience's), the same per store and per variant
    (from its counts by cell), and with a control group its orders and what the
    texts added to them: orders and revenue beyond the control group's rate."""
    held = {name: counts for name, counts in cells.items() if cell_parts(name)[1] == HOLDOUT}
    texted = {name: counts for name, counts in cells.items() if name not in held}
    control = _summed(held.values())
    counts = Counter(run.counts)
    counts.subtract({key: n for key, n in control.items() if key == ORDERED or key.startswith(REVENUE)})
    whole = funnel(counts, prices, currency)

    def by(part: int, name: str) -> list[dict[str, Any]]:  # part 0: by store, 1: by variant
        groups = dict.fromkeys(cell_parts(cell)[part] for cell in sorted(texted))
        in_group = {group: _summed(c for n, c in texted.items() if cell_parts(n)[part] == group) for group in groups}
        return [{name: group, **funnel(counts, prices, currency)} for group, counts in in_group.items()]

    return {
        "run_id": run.id,
        "campaign_id": run.campaign_id,
        **whole,
        "by_store": by(0, "store_id"),
        "by_variant": by(1, "variant"),
        "holdout": _control_group(control) if held else None,
        "incremental": _incremental(whole, control) if held else None,
    }


def _control_group(control: Mapping[str, int]) -> dict[str, Any]:
    return {"size": control.get(PLANNED, 0), "ordered": control.get(ORDERED, 0), "revenue": _revenue(control)}


def _incremental(texted: Mapping[str, Any], control: Mapping[str, int]) -> dict[str, Any] | None:
    """Orders and revenue beyond what the texted audience would have brought at
    the control group's rate (None while the control group is empty)."""
    size = control.get(PLANNED, 0)
    if not size:
        return None
    scale = texted["planned"] / size
    held_revenue = _revenue(control)
    return {
        "ordered": round(texted["ordered"] - control.get(ORDERED, 0) * scale, 2),
        "revenue": {
            currency: round(texted["revenue"].get(currency, 0) - held_revenue.get(currency, 0) * scale, 2)
            for currency in sorted({*texted["revenue"], *held_revenue})
        },
    }


ROW_METRICS = (
    "planned", "sent", "delivered", "failed", "replied_24h", "opted_out_72h", "clicked", "ordered",
    "segments", "unpriced_segments", "cost", "revenue_per_cost",
)  # fmt: skip


def as_csv(report: Mapping[str, Any]) -> str:
    """One row per group (the run, each store, each variant, the control group,
    the increment), a column per metric; revenue and segments by country as
    `revenue_GBP`, `segments_GB`. A cell is empty where the metric does not apply."""
    rows: list[tuple[str, Mapping[str, Any]]] = [("run", report)]
    rows += [(f"store:{group['store_id'] or 'brand'}", group) for group in report["by_store"]]
    rows += [(f"variant:{group['variant'] or 'message'}", group) for group in report["by_variant"]]
    rows += [(name, report[name]) for name in ("holdout", "incremental") if report[name]]
    currencies = sorted({currency for _, row in rows for currency in row.get("revenue", {})})
    countries = sorted({country for _, row in rows for country in row.get("segments_by_country", {})})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["group", *ROW_METRICS, *(REVENUE + c for c in currencies), *(segments_in(c) for c in countries)])
    for name, row in rows:
        revenue, segments = row.get("revenue", {}), row.get("segments_by_country", {})
        values = [row.get("size" if metric == "planned" and name == "holdout" else metric) for metric in ROW_METRICS]
        values += [revenue.get(c) for c in currencies] + [segments.get(c) for c in countries]
        writer.writerow([name, *("" if value is None else value for value in values)])
    return out.getvalue()
