"""Contacts as CSV, both ways, with no I/O: an import's text read into rows in the
shape the JSON import takes (`{"phone": ..., "tags": [...], ...}`), each with the
line it starts on, and contacts written out in the same columns, so that an
export imports back as it was.

Columns (a header row first; the names of the fixed ones in any case):

    phone          required, E.164 or with its country code
    tags           separated by ";"
    time_zone      an IANA zone, confirmed
    home_area      postcode or ZIP; home_region: e.g. a US state
    store_id       the store (branch) its texts go from
    consent_state  with consent_source and consent_at (ISO 8601)
    anything else  an attribute of that name

A blank cell sets nothing. Blank lines are skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.contact import Contact

__all__ = ["COLUMNS", "TAG_SEPARATOR", "CsvRow", "ReadCsv", "column_of", "read_csv", "write_csv"]

COLUMNS = (
    "phone",
    "tags",
    "time_zone",
    "home_area",
    "home_region",
    "store_id",
    "consent_state",
    "consent_source",
    "consent_at",
)
TAG_SEPARATOR = ";"
HEADER_LINE = 1


@dataclass(frozen=True)
class CsvRow:
    line: int  # the line of the file the row starts on (a quoted field may span lines)
    fields: dict[str, Any]  # ContactIn's shape


@dataclass
class ReadCsv:
    """The rows read, and every line refused with why (nothing is stored unless none is)."""

    rows: list[CsvRow] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)  # the attribute columns, as named


def read_csv(text: str, max_rows: int) -> ReadCsv:
    """Rows of a CSV import. Header problems are rejects of line 1, a row with the
    wrong number of cells a reject of its line; more than `max_rows` rows is one
    reject (line 0: the file)."""
    found = ReadCsv()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)  # Excel's BOM
    header: list[str] | None = None
    ended = 0  # the last line the reader has read
    counted = 0  # rows under the header
    try:
        for cells in reader:
            line, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _header(cells, found)
                continue
            counted += 1
            if counted > max_rows:
                found.rejects.append((0, f"more than {max_rows} rows: split the file"))
                return found
            if len(cells) != len(header):
                found.rejects.append((line, f"{len(cells)} cells, but the header has {len(header)} columns"))
                continue
            found.rows.append(CsvRow(line, _fields(dict(zip(header, cells, strict=True)), found.attributes)))
    except csv.Error as error:
        found.rejects.append((reader.line_num, f"not readable as CSV: {error}"))
        return found
    if header is None:
        found.rejects.append((HEADER_LINE, "the file is empty: give a header row with a phone column"))
    elif not found.rows and not found.rejects:
        found.rejects.append((HEADER_LINE, "no contacts under the header row"))
    return found


def _header(cells: list[str], found: ReadCsv) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for number, cell in enumerate(cells, start=1):
        name = cell.strip()
        name = name.lower() if name.lower() in COLUMNS else name
        if not name:
            found.rejects.append((HEADER_LINE, f"column {number} has no name"))
        elif name.casefold() in seen:
            found.rejects.append((HEADER_LINE, f"column {name!r} is named twice"))
        elif name not in COLUMNS:
            found.attributes.append(name)
        seen.add(name.casefold())
        names.append(name)
    if "phone" not in names:
        found.rejects.append((HEADER_LINE, "no phone column: the header row must name one"))
    return names


def _fields(cells: dict[str, str], attribute_columns: list[str]) -> dict[str, Any]:
    value = {name: text.strip() for name, text in cells.items()}
    fields: dict[str, Any] = {"phone": value.get("phone", "")}
    tags = [tag.strip() for tag in value.get("tags", "").split(TAG_SEPARATOR)]
    if any(tags):
        fields["tags"] = [tag for tag in tags if tag]
    attributes = {name: cells[name] for name in attribute_columns if name in cells and cells[name].strip()}
    if attributes:
        fields["attributes"] = attributes
    if value.get("time_zone"):
        fields["time_zone"] = value["time_zone"]
    if value.get("home_area") or value.get("home_region"):
        home = {"area": value.get("home_area"), "region": value.get("home_region") or None}
        fields["home"] = {name: item for name, item in home.items() if item}
    if value.get("store_id"):
        fields["store_id"] = value["store_id"]
    consent = {part: value.get(f"consent_{part}") for part in ("state", "source", "at")}
    if any(consent.values()):
        fields["consent"] = {name: item for name, item in consent.items() if item}
    return fields


def column_of(location: tuple[int | str, ...]) -> str:
    """The CSV column a validation error's location (in ContactIn's shape) came from."""
    head = str(location[0]) if location else "row"
    if head in ("home", "consent") and len(location) > 1:
        return f"{head}_{location[1]}"
    if head == "attributes" and len(location) > 1:
        return str(location[1])
    return head


def write_csv(contacts: Iterable[Contact]) -> str:
    """The contacts in the import's columns, with a header row: the fixed columns,
    then one per attribute any of them has, by name."""
    people = list(contacts)
    reserved = {name.casefold() for name in COLUMNS}
    attributes = sorted({name for c in people for name in c.attributes if name.casefold() not in reserved})
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, *attributes])
    for contact in people:
        consent = contact.consent_event
        home = contact.home
        writer.writerow(
            [
                contact.phone,
                TAG_SEPARATOR.join(contact.tags),
                contact.time_zone.confirmed or "",
                home.area if home else "",
                (home.region or "") if home else "",
                contact.store_id or "",
                consent.state.value if consent else "",
                consent.source if consent else "",
                consent.at.isoformat() if consent else "",
                *(contact.attributes[name].value if name in contact.attributes else "" for name in attributes),
            ]
        )
    return out.getvalue()
