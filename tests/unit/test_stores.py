"""Stores: their areas, and which store a home belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.contact import Contact, HomeLocation, StoreSource, with_store
from chalicelib.domain.policy import Area, covers
from chalicelib.domain.stores import Store, StoreSpec, check_store_id, home_store, store_for_home

AT = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)


def store(store_id: str, *areas: str, retired: bool = False) -> Store:
    spec = StoreSpec(
        name=f"Pizza Co {store_id}",
        time_zone="Europe/London",
        areas=list(areas),
        sender="+447700900001",
        messages_per_second=1,
        retired=retired,
    )
    return Store(**spec.model_dump(), id=store_id, created_at=AT, updated_at=AT)


@pytest.mark.parametrize(
    ("prefix", "home", "held"),
    [
        ("LS1", "LS14AB", True),  # the district
        ("LS1", "LS101AA", False),  # LS10 is another district, though it starts with LS1
        ("LS10", "LS101AA", True),
        ("LS", "LS101AA", True),  # the postcode area
        ("L", "LS101AA", False),  # Liverpool's L is not Leeds' LS
        ("LS14", "LS14AB", True),  # the sector LS1 4
        ("SW1", "SW1A1AA", True),  # SW1A is a part of SW1
        ("SW1A", "SW1A1AA", True),
        ("941", "94103", True),  # a ZIP prefix
        ("941", "94203", False),
        ("NE1", "NE1", True),  # a partial code, as an import may give it
    ],
)
def test_an_area_holds_whole_postcode_districts_and_zip_prefixes(prefix: str, home: str, held: bool) -> None:
    assert covers(prefix, home) is held
    assert Area("there", (prefix,)).contains(home) is held  # a campaign's location reads the same rule


def test_the_most_specific_area_wins_and_a_retired_store_takes_nobody() -> None:
    leeds, centre, harrogate = store("leeds", "LS"), store("leeds-centre", "LS1", "LS2"), store("harrogate", "HG")
    assert store_for_home([leeds, centre, harrogate], "LS1 4AB".replace(" ", "")) == centre
    assert store_for_home([leeds, centre, harrogate], "LS101AA") == leeds  # LS10: not the centre's LS1
    assert store_for_home([leeds, centre, harrogate], "NE14ST") is None  # nobody covers Newcastle
    assert store_for_home([store("leeds", "LS", retired=True), harrogate], "LS14AB") is None
    tie = [store("b", "LS1"), store("a", "LS1")]
    assert store_for_home(tie, "LS14AB") == tie[1]  # a tie goes to the first by id, whatever the order


@given(st.lists(st.sampled_from(["LS", "LS1", "LS10", "LS14", "HG", "941", "9410"]), min_size=1, max_size=6))
def test_the_chosen_store_covers_the_home_and_none_covers_it_more_specifically(areas: list[str]) -> None:
    stores = [store(f"s{i}", area) for i, area in enumerate(areas)]
    for home in ("LS14AB", "LS101AA", "94103", "HG11AA", "NE14ST"):
        chosen = store_for_home(stores, home)
        covering = [s for s in stores if s.covering(home)]
        if not covering:
            assert chosen is None
            continue
        assert chosen is not None and chosen.covering(home)
        assert all(len(s.covering(home) or "") <= len(chosen.covering(home) or "") for s in covering)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("time_zone", "Europe/Leeds", "IANA"),
        ("sender", "not a number", "Messaging Service"),
        ("areas", ["LS-1"], "letters and digits"),
        ("areas", [], "at least 1"),
        ("messages_per_second", 0, "greater than 0"),
        ("phone", "12", "E.164"),
        ("name", "   ", "blank"),
    ],
)
def test_a_bad_store_is_refused_naming_what_is_wrong(field: str, value: object, says: str) -> None:
    good = {"name": "Pizza Co Leeds", "time_zone": "Europe/London", "areas": ["LS1"], "sender": "+447700900001"}
    with pytest.raises(ValidationError, match=says):
        StoreSpec.model_validate({**good, "messages_per_second": 1, field: value})


def test_a_sender_is_a_number_or_a_messaging_service_and_areas_are_normalised() -> None:
    spec = StoreSpec(
        name="Leeds", time_zone="Europe/London", areas=["ls1", " ls 2 ", "LS1"], sender="MG" + "a" * 32,
        messages_per_second=10, phone="+44 113 496 0000",
    )  # fmt: skip
    assert (spec.areas, spec.sender, spec.phone) == (["LS1", "LS2"], "MG" + "a" * 32, "+441134960000")
    assert StoreSpec(**{**spec.model_dump(), "sender": "+44 7700 900001"}).sender == "+447700900001"


@pytest.mark.parametrize("store_id", ["leeds", "leeds-centre_2", "0"])
def test_store_ids_are_short_lower_case_names(store_id: str) -> None:
    assert check_store_id(store_id) == store_id


@pytest.mark.parametrize("store_id", ["", "Leeds", "leeds centre", "-leeds", "x" * 65, "leeds/1"])
def test_other_store_ids_are_refused(store_id: str) -> None:
    with pytest.raises(ValueError, match="store_id"):
        check_store_id(store_id)


def contact_at_home(area: str, confirmed: bool = True) -> Contact:
    home = HomeLocation(area=area, confirmed_at=AT if confirmed else None)
    return Contact(phone="+447700900123", created_at=AT, home=home)


def test_a_confirmed_home_gives_a_store_but_never_over_one_an_import_or_an_order_named() -> None:
    stores = [store("leeds", "LS1"), store("newcastle", "NE1")]
    derived = home_store(contact_at_home("LS14AB"), stores, AT)
    assert (derived.store_id, derived.store_source, derived.store_since) == ("leeds", StoreSource.HOME, AT)
    assert home_store(contact_at_home("LS14AB", confirmed=False), stores, AT).store_id is None
    assert home_store(contact_at_home("SW1A1AA"), stores, AT).store_id is None  # no store holds London
    ordered = with_store(contact_at_home("LS14AB"), "newcastle", StoreSource.ORDER, AT)
    assert home_store(ordered, stores, AT + timedelta(days=1)).store_id == "newcastle"  # the order named it


def test_the_later_of_an_import_and_an_order_names_the_store() -> None:
    ordered = with_store(contact_at_home("LS14AB"), "newcastle", StoreSource.ORDER, AT)
    assert with_store(ordered, "leeds", StoreSource.IMPORT, AT - timedelta(hours=1)).store_id == "newcastle"
    imported = with_store(ordered, "leeds", StoreSource.IMPORT, AT + timedelta(hours=1))
    assert (imported.store_id, imported.store_source) == ("leeds", StoreSource.IMPORT)
    home = with_store(contact_at_home("LS14AB"), "leeds", StoreSource.HOME, AT)
    assert with_store(home, "york", StoreSource.IMPORT, AT - timedelta(days=9)).store_id == "york"  # over a home's
