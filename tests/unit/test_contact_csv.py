"""Contacts as CSV: rows read with the line each starts on, and written back in
the same columns."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.contact import Attribute, ConsentEvent, ConsentState, Contact, HomeLocation, TimeZone
from chalicelib.domain.contact_csv import column_of, read_csv, write_csv

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_rows_keep_the_line_they_start_on_past_blank_lines_and_quoted_newlines() -> None:
    read = read_csv(
        '\ufeffPhone,Tags,note\n\n+447700900001,"a; b",x\n+447700900002,,"two\nlines"\n+447700900003,,y\n', 10
    )
    assert read.rejects == [] and read.attributes == ["note"]
    assert [row.line for row in read.rows] == [3, 4, 6]
    assert read.rows[0].fields == {"phone": "+447700900001", "tags": ["a", "b"], "attributes": {"note": "x"}}
    assert read.rows[1].fields == {"phone": "+447700900002", "attributes": {"note": "two\nlines"}}


def test_blank_cells_set_nothing_and_grouped_columns_are_grouped() -> None:
    text = (
        "phone,home_area,home_region,consent_state,consent_source,consent_at,time_zone\n"
        "+447700900001,LS6 1AA,,opted_in,till,2026-01-01T00:00:00Z,\n"
    )
    (row,) = read_csv(text, 10).rows
    assert row.fields == {
        "phone": "+447700900001",
        "home": {"area": "LS6 1AA"},
        "consent": {"state": "opted_in", "source": "till", "at": "2026-01-01T00:00:00Z"},
    }


def test_a_row_of_the_wrong_width_and_too_many_rows_are_refused() -> None:
    read = read_csv("phone,name\n+447700900001\n+447700900002,b\n", 10)
    assert read.rejects == [(2, "1 cells, but the header has 2 columns")] and len(read.rows) == 1
    assert read_csv("phone\n1\n2\n3\n", 2).rejects == [(0, "more than 2 rows: split the file")]


def test_validation_locations_name_their_columns() -> None:
    assert column_of(("home", "area")) == "home_area"
    assert column_of(("consent", "at")) == "consent_at"
    assert column_of(("attributes", "first name!", "[key]")) == "first name!"
    assert column_of(("tags", 3)) == "tags"
    assert column_of(("phone",)) == "phone"


def test_what_is_written_reads_back_as_it_was() -> None:
    ann = Contact(
        phone="+447700900001",
        created_at=AT,
        tags=["pizza", "vip"],
        attributes={"first_name": Attribute(value='Ann "A", Jr', source="import", updated_at=AT)},
        home=HomeLocation(area="LS61AA", region="WY"),
        consent_event=ConsentEvent(state=ConsentState.OPTED_IN, source="till", at=AT),
        time_zone=TimeZone(confirmed="Europe/London"),
        store_id="leeds",
    )
    bob = Contact(phone="+447700900002", created_at=AT)
    text = write_csv([ann, bob])
    assert text.splitlines()[0] == (
        "phone,tags,time_zone,home_area,home_region,store_id,consent_state,consent_source,consent_at,first_name"
    )
    rows = read_csv(text, 10).rows
    assert rows[0].fields == {
        "phone": "+447700900001",
        "tags": ["pizza", "vip"],
        "attributes": {"first_name": 'Ann "A", Jr'},
        "time_zone": "Europe/London",
        "home": {"area": "LS61AA", "region": "WY"},
        "store_id": "leeds",
        "consent": {"state": "opted_in", "source": "till", "at": "2026-03-01T12:00:00+00:00"},
    }
    assert rows[1].fields == {"phone": "+447700900002"}
