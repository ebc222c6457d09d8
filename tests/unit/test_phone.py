import pytest

from chalicelib.domain.errors import InvalidPhoneError
from chalicelib.domain.phone import normalise, sender_address, time_zone_candidates


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+447700900123", "+447700900123"),
        ("447700900123", "+447700900123"),  # E.164 without its plus, as in a URL path
        (" +1 (415) 555-0100 ", "+14155550100"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_numbers_normalise_to_e164(raw: str, e164: str) -> None:
    assert normalise(raw) == e164


def test_national_numbers_need_a_region() -> None:
    assert normalise("07911 123456", default_region="GB") == "+447911123456"


@pytest.mark.parametrize("raw", ["", "   ", "hello", "+1", "+44123", "+999 1234 5678", "12345678901234567890"])
def test_unreadable_numbers_say_why(raw: str) -> None:
    with pytest.raises(InvalidPhoneError, match=r"\w+"):
        normalise(raw)


def test_short_codes_are_brand_numbers_as_they_are() -> None:
    assert sender_address("72345") == "72345"
    assert sender_address("+14155550100") == "+14155550100"


def test_time_zones_come_from_the_number_or_its_country() -> None:
    assert time_zone_candidates("+12025550123") == ("America/New_York",)  # Washington DC
    toll_free = time_zone_candidates("+18005550100")
    assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu"} <= set(toll_free)
    # A drama/test range has no zone of its own: fall back to the country's.
    assert "Europe/London" in time_zone_candidates("+447700900123")
