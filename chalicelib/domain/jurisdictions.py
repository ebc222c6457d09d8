"""Texting hours and days as data: one row per jurisdiction, with its source.

Each row says, per day of the week (Monday first), the local hours in which a
marketing text may arrive, or that none may that day, and whether the
jurisdiction's legal holidays are barred too. Holidays are never typed in:
they come from the `holidays` package, per year, when first needed.

Which rows apply to a person (`applicable`): a confirmed home region alone;
otherwise the imported home region and the region the number's area code
belongs to, together (a ported number or a move could put the person under
either law). A US number whose area code names no state could be anywhere in
the US, so every US row applies.

The table is rendered into docs/policies.md by scripts/render_jurisdictions.py
(`markdown_table`); a unit test keeps the two equal. Each row records how it
was checked: `read` (the rule's text, in the statute or regulation or a copy of
it), `reported` (law firms', regulators' or news reports of the text), or
`unconfirmed` (only vendors' charts: applied anyway, being the stricter reading).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import Literal

Hours = tuple[time, time]  # opens (inclusive), closes (exclusive), local time
Week = tuple[Hours | None, ...]  # Monday..Sunday; None: no marketing at all that day
Status = Literal["read", "reported", "unconfirmed", "no rule"]

CHECKED = date(2026, 11, 27)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _hours(text: str) -> Hours:
    opens, closes = text.split("-")
    return time.fromisoformat(opens), time.fromisoformat(closes)


def _week(weekdays: str | None, saturday: str | None = "same", sunday: str | None = "same") -> Week:
    """Hours as "09:00-20:00"; "same" repeats the weekday hours; None bars the day."""
    base = _hours(weekdays) if weekdays else None
    sat = base if saturday == "same" else (_hours(saturday) if saturday else None)
    sun = base if sunday == "same" else (_hours(sunday) if sunday else None)
    return (base, base, base, base, base, sat, sun)


@dataclass(frozen=True, eq=False)  # rows are singletons: identity is equality, and hashing is cheap
class Jurisdiction:
    code: str  # ISO 3166: "US", "US-CT", "CA" (Canada), "GB", "AU"
    name: str
    week: Week | None  # None: no rule on hours or days for texts
    holidays: bool  # no marketing on the jurisdiction's legal holidays
    law: str
    sources: tuple[str, ...]
    status: Status
    note: str = ""
    checked: date = CHECKED

    @property
    def country(self) -> str:
        return self.code.split("-")[0]

    def hours_on(self, weekday: int) -> Hours | None:
        """The local hours on that weekday (0 is Monday); None if barred."""
        return self.week[weekday] if self.week is not None else (time.min, time.max)


US = Jurisdiction(
    "US",
    "United States (federal)",
    _week("08:00-21:00"),
    holidays=False,
    law="TCPA rules, 47 CFR 64.1200(c)(1): no telephone solicitation before 8 a.m. or after 9 p.m. "
    "at the called party's location; the FCC treats texts as calls",
    sources=(
        "https://www.nwdebtresolution.com/post/telephone-consumer-protection-act-call-time-restrictions",
        "https://twilio.com/docs/api/errors/30610",
    ),
    status="reported",
    note="the federal floor for every US number; the same as Rapport's own 08:00-21:00 window",
)

STATES: tuple[Jurisdiction, ...] = (
    Jurisdiction(
        "US-AL",
        "Alabama",
        _week("08:00-20:00", sunday=None),
        holidays=True,
        law="Ala. Admin. Code r. 770-X-5-.17(1)(b): no solicitation calls on Sundays or holidays; "
        "otherwise none before 8 a.m. or after 8 p.m.",
        sources=(
            "https://d1tvxue8o4w0fl.cloudfront.net/regulation/alabama-administrative-code/"
            "title-770-alabama-public-service-commission/chapter-770-x-5-telephone-rules/"
            "section-770-x-5-17-live-and-automated-solicitations-and-announcements",
            "https://dnc.com/holiday-alerts?year=2023",
        ),
        status="read",
        note="written for automated solicitation calls under the Public Service Commission's telephone rules; "
        "applied to texts as the stricter reading",
    ),
    Jurisdiction(
        "US-CT",
        "Connecticut",
        _week("09:00-20:00"),
        holidays=False,
        law="Conn. Gen. Stat. 42-288a as amended by P.A. 23-98 (S.B. 1058): telephonic sales calls, "
        "texts included, only between 9 a.m. and 8 p.m. local time; a Connecticut area code is presumed "
        "to be in the state (42-288(c)); up to $20,000 a violation",
        sources=(
            "https://www.manatt.com/insights/newsletters/tcpa-connect/connecticut-senate-bill-1058",
            "https://mondaq.co.uk/unitedstates/advertising-marketing--branding/1340464/"
            "revised-connecticut-telemarketing-law-signed-into-law",
            "https://cga.ct.gov/current/pub/chap_743m.htm",
        ),
        status="reported",
        note="the hours clause was read as quoted by Manatt and Klein Moynihan Turco, not on the statute page",
    ),
    Jurisdiction(
        "US-FL",
        "Florida",
        _week("08:00-20:00"),
        holidays=False,
        law="Fla. Stat. 501.616(6)(a): no commercial telephone solicitation before 8 a.m. or after 8 p.m. "
        "in the called person's time zone (S.B. 1120, 2021)",
        sources=(
            "http://www.lawserver.com/law/state/florida/statutes/florida_statutes_501-616",
            "https://www.nolo.com/legal-encyclopedia/florida-restrictions-telemarketers.html",
        ),
        status="read",
    ),
    Jurisdiction(
        "US-KY",
        "Kentucky",
        _week("10:00-21:00"),
        holidays=False,
        law="KRS 367.46955 (prohibited telephone solicitation practices): 10 a.m. to 9 p.m. per compliance charts",
        sources=(
            "https://www.dropcowboy.com/state-compliance",
            "https://blog.clickpointsoftware.com/telemarketing-calling-hours-by-state",
        ),
        status="unconfirmed",
        note="the hours clause was not found in the statute text we could read; applied as the charts give it",
    ),
    Jurisdiction(
        "US-LA",
        "Louisiana",
        _week("08:00-20:00", sunday=None),
        holidays=True,
        law="La. R.S. 45:811: calls offering goods or services only 8 a.m. to 8 p.m. Monday through Saturday, "
        "never on Sundays or state holidays (also LPSC General Order R-29617)",
        sources=("https://lawserver.com/?p=30183792", "https://dnc.com/holiday-alerts?year=2023"),
        status="read",
        note="holidays the governor proclaims ad hoc (e.g. Christmas Eve) and emergency bans are not computed",
    ),
    Jurisdiction(
        "US-MA",
        "Massachusetts",
        _week("08:00-20:00"),
        holidays=False,
        law="201 CMR 12.02(2): no unsolicited telephonic sales call between 8 p.m. and 8 a.m. local time",
        sources=("https://regulations.justia.com/states/massachusetts/201-cmr/title-201-cmr-12-00/section-12-02",),
        status="read",
    ),
    Jurisdiction(
        "US-MD",
        "Maryland",
        _week("08:00-20:00"),
        holidays=False,
        law="Md. Code, Com. Law 14-4502 (Stop the Spam Calls Act of 2023, from 2024-01-01): "
        "8 a.m. to 8 p.m. in the called party's time zone",
        sources=(
            "https://www.wmar2news.com/local/law-to-prevent-spam-calls-takes-effect-first-of-the-year",
            "https://lexace.ai/us/statute/maryland/CL-14-4502",
        ),
        status="reported",
    ),
    Jurisdiction(
        "US-MI",
        "Michigan",
        _week("09:00-21:00"),
        holidays=False,
        law="Home Solicitation Sales Act, MCL 445.111 et seq.: 9 a.m. to 9 p.m. per compliance charts",
        sources=("https://www.dropcowboy.com/state-compliance",),
        status="unconfirmed",
        note="the hours clause was not found in the statute text we could read, and the Act defines a "
        "telephone solicitation as a voice communication; applied as the charts give it",
    ),
    Jurisdiction(
        "US-MN",
        "Minnesota",
        _week("09:00-21:00"),
        holidays=False,
        law="Minn. Stat. 325E.27 per compliance charts: 9 a.m. to 9 p.m.",
        sources=("https://www.dropcowboy.com/state-compliance",),
        status="unconfirmed",
        note="the hours clause was not found in the statute text we could read; applied as the charts give it",
    ),
    Jurisdiction(
        "US-MS",
        "Mississippi",
        _week("08:00-20:00", sunday=None),
        holidays=False,
        law="Miss. Code 77-3-723(1): 8 a.m. to 8 p.m. Central Standard Time; no telephone solicitation on Sundays",
        sources=(
            "https://getpocketlaw.com/law/state_mississippi/section-77-3-723-rules-for-authorized-calls_57b73fa7ff73",
            "https://www.dnc.com/blog/no-more-holidays-mississippi-marketers-magnolia-state-lifts-"
            "prohibition-telemarketing-legal",
        ),
        status="read",
        note="read as local time; legal holidays are no longer barred since the PSC rules were repealed (2024)",
    ),
    Jurisdiction(
        "US-NM",
        "New Mexico",
        _week("09:00-21:00"),
        holidays=False,
        law="NMSA 57-12-22(B)(5): no telephone solicitation received before 9 a.m. or after 9 p.m.",
        sources=("https://law.justia.com/codes/new-mexico/2006/nmrc/jd_57-12-22-13117.html",),
        status="read",
        note="read in a 2006 copy of the statute",
    ),
    Jurisdiction(
        "US-NV",
        "Nevada",
        _week("09:00-20:00"),
        holidays=False,
        law="NRS/NAC 599B per compliance charts; sources disagree (9 a.m. to 8 p.m., or 8 a.m. to 9 p.m.)",
        sources=(
            "https://www.dropcowboy.com/state-compliance",
            "https://www.lawgratis.com/blog-detail/nevada-administrative-code-chapter-599b-solicitation-by-telephone",
        ),
        status="unconfirmed",
        note="the stricter of the two readings is applied",
    ),
    Jurisdiction(
        "US-OK",
        "Oklahoma",
        _week("08:00-20:00"),
        holidays=False,
        law="Telephone Solicitation Act of 2022, 15 O.S. 775C.4: 8 a.m. to 8 p.m. (from 2022-11-01)",
        sources=(
            "https://dnc.dreamhosters.com/?p=1309",
            "https://www.nolo.com/legal-encyclopedia/oklahoma-restrictions-on-telemarketers.html",
        ),
        status="reported",
    ),
    Jurisdiction(
        "US-PA",
        "Pennsylvania",
        _week("08:00-21:00"),
        holidays=True,
        law="Telemarketer Registration Act, 73 P.S. 2245(a)(10) (Act 73 of 2019): no telephone solicitation "
        "calls on legal holidays; hours 8 a.m. to 9 p.m.",
        sources=(
            "https://www.attorneygeneral.gov/protect-yourself/consumer-advisories/telemarketing-information-you-need-to-know/",
            "https://mslawgroup.com/regulatory-alert-pennsylvania-amends-telemarketing-registration-act/",
        ),
        status="reported",
        note="S.B. 992 (texts covered, no Sundays, 9 a.m. to 7 p.m.) passed the Senate; we could not confirm "
        "that it is law, so it is not applied. The holidays package's list lacks Flag Day, Good Friday and "
        "Election Day, which Pennsylvania also counts",
    ),
    Jurisdiction(
        "US-RI",
        "Rhode Island",
        _week("09:00-18:00", saturday="10:00-17:00", sunday=None),
        holidays=True,
        law="R.I. Gen. Laws 5-61-3.6 and 5-61-2 (hours of operation): Monday to Friday 9 a.m. to 6 p.m., "
        "Saturday 10 a.m. to 5 p.m., never on a state or federal holiday; nothing on Sundays",
        sources=(
            "http://webserver.rilin.state.ri.us/Statutes/TITLE5/5-61/5-61-3.6.HTM",
            "https://instalawyer.io/laws/rhode-island-general-laws/section-5-61-2-definitions",
        ),
        status="read",
    ),
    Jurisdiction(
        "US-TX",
        "Texas",
        _week("09:00-21:00", sunday="12:00-21:00"),
        holidays=False,
        law="Tex. Bus. & Com. Code 301.051: 9 a.m. to 9 p.m. Monday to Saturday, noon to 9 p.m. on Sundays; "
        "texts are telephone solicitations since S.B. 140 (2025-09-01)",
        sources=(
            "https://www.foster.com/newsroom-alerts-texas-expands-telemarketing-law-to-cover-text-messagesms-"
            "marketing-what-companies-need-to-know",
            "https://support.telnyx.com/en/articles/12141904-legal-update-texas-s-mini-tcpa-now-applies-to-texts",
        ),
        status="reported",
    ),
    Jurisdiction(
        "US-UT",
        "Utah",
        _week("08:00-21:00", sunday=None),
        holidays=True,
        law="Utah Code 13-25a-103(3): without prior express consent, no telephone solicitation between "
        "9 p.m. and 8 a.m., on a Sunday or on a legal holiday",
        sources=("https://codes.findlaw.com/ut/title-13-commerce-and-trade/ut-code-sect-13-25a-103/",),
        status="read",
        note="applied even with consent on record, as the stricter reading",
    ),
    Jurisdiction(
        "US-WA",
        "Washington",
        _week("08:00-20:00"),
        holidays=False,
        law="RCW 19.158.040(2): no commercial telephone solicitation received before 8 a.m. or after 8 p.m. local time",
        sources=("https://app.leg.wa.gov/RCW/default.aspx?cite=19.158.040",),
        status="read",
    ),
)

COUNTRIES: tuple[Jurisdiction, ...] = (
    US,
    Jurisdiction(
        "CA",
        "Canada",
        _week("09:00-21:30", saturday="10:00-18:00", sunday="10:00-18:00"),
        holidays=False,
        law="CRTC Unsolicited Telecommunications Rules, calling curfews: 9 a.m. to 9:30 p.m. on weekdays, "
        "10 a.m. to 6 p.m. on weekends",
        sources=(
            "https://crtc.gc.ca/eng/phone/telemarketing/tobligations/rules-regles.htm",
            "http://mondaq.com/canada/x/700516/Data+Protection+Privacy/"
            "Text+Y+To+Confirm+Your+Subscription+Companies+Agree+To+100000+Payment+For+Alleged+CASL+Violations",
        ),
        status="read",
        note="the curfews are written for telemarketing calls; texts are commercial electronic messages under "
        "CASL, which sets no hours. We could not confirm that the curfews leave texts out, so they are applied",
    ),
    Jurisdiction(
        "GB",
        "United Kingdom",
        None,
        holidays=False,
        law="PECR 2003: consent and identification rules for marketing texts, no time-of-day or day rule",
        sources=(
            "https://cy.ico.org.uk/for-organisations/direct-marketing-and-privacy-and-electronic-communications/"
            "guide-to-pecr/electronic-and-telephone-marketing",
        ),
        status="no rule",
        note="Rapport's own 08:00-21:00 window still applies",
    ),
    Jurisdiction(
        "AU",
        "Australia",
        None,
        holidays=False,
        law="Spam Act 2003: consent rules for commercial texts, no hours; the Telemarketing and Research Calls "
        "Industry Standard 2017 hours (weekdays 9 a.m. to 8 p.m., Saturdays 9 a.m. to 5 p.m.) cover voice calls",
        sources=("https://donotcall.gov.au/industry/industry-overview/industry-standards",),
        status="no rule",
        note="Rapport's own 08:00-21:00 window still applies",
    ),
)

TABLE: tuple[Jurisdiction, ...] = COUNTRIES[:1] + STATES + COUNTRIES[1:]
BY_CODE = {row.code: row for row in TABLE}

# area-codes:start (generated by scripts/render_jurisdictions.py: do not edit)
AREA_CODES: dict[str, str] = {
    "CA-AB": "368 403 587 780 825",
    "CA-BC": "236 250 257 604 672 778",
    "CA-MB": "204 431 584",
    "CA-NB": "428 506",
    "CA-NL": "709 879",
    "CA-NS": "782 902",
    "CA-NT": "867",
    "CA-NU": "867",
    "CA-ON": "226 249 289 343 365 382 416 437 519 548 613 647 683 705 742 753 807 905 942",
    "CA-PE": "782 902",
    "CA-QC": "263 273 354 367 418 438 450 468 514 579 581 819 873",
    "CA-SK": "306 474 639",
    "CA-YT": "867",
    "US-AK": "907",
    "US-AL": "205 251 256 334 659 938",
    "US-AR": "327 479 501 870",
    "US-AZ": "480 520 602 623 928",
    "US-CA": "209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 "
             "714 738 747 760 805 818 820 831 840 858 909 916 925 949 951",
    "US-CO": "303 719 720 748 970 983",
    "US-CT": "203 475 860 959",
    "US-DC": "202 771",
    "US-DE": "302",
    "US-FL": "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 941 954",
    "US-GA": "229 404 470 478 678 706 762 770 912 943",
    "US-HI": "808",
    "US-IA": "319 515 563 641 712",
    "US-ID": "208 986",
    "US-IL": "217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 872",
    "US-IN": "219 260 317 463 574 765 812 930",
    "US-KS": "316 620 785 913",
    "US-KY": "270 364 502 606 859",
    "US-LA": "225 318 337 504 985",
    "US-MA": "339 351 413 508 617 774 781 857 978",
    "US-MD": "227 240 301 410 443 667",
    "US-ME": "207",
    "US-MI": "231 248 269 313 517 586 616 734 810 906 947 989",
    "US-MN": "218 320 507 612 651 763 952",
    "US-MO": "235 314 417 557 573 636 660 816 975",
    "US-MS": "228 601 662 769",
    "US-MT": "406",
    "US-NC": "252 336 472 704 743 828 910 919 980 984",
    "US-ND": "701",
    "US-NE": "308 402 531",
    "US-NH": "603",
    "US-NJ": "201 551 609 640 732 848 856 862 908 973",
    "US-NM": "505 575",
    "US-NV": "702 725 775",
    "US-NY": "201 212 315 329 332 347 363 516 518 585 607 631 646 680 716 718 838 845 914 917 929 934",
    "US-OH": "216 220 234 283 326 330 380 419 440 513 567 614 740 937",
    "US-OK": "405 539 572 580 918",
    "US-OR": "458 503 541 971",
    "US-PA": "215 223 267 272 412 445 484 570 582 610 717 724 814 835 878",
    "US-RI": "401",
    "US-SC": "803 821 839 843 854 864",
    "US-SD": "605",
    "US-TN": "423 615 629 731 865 901 931",
    "US-TX": "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 915 936 940 "
             "945 956 972 979",
    "US-UT": "385 435 801",
    "US-VA": "276 434 540 571 686 703 757 804 826 948",
    "US-VT": "802",
    "US-WA": "206 253 360 425 509 564",
    "US-WI": "262 274 353 414 534 608 715 920",
    "US-WV": "304 681",
    "US-WY": "307",
}  # fmt: skip
# area-codes:end

NANP_PLACES: dict[str, tuple[str, ...]] = {}
for _place, _codes in AREA_CODES.items():
    for _code in _codes.split():
        NANP_PLACES[_code] = (*NANP_PLACES.get(_code, ()), _place)

US_STATES = frozenset(
    ("AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
     "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH",
     "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY")
)  # fmt: skip
CA_PROVINCES = frozenset(("AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"))


def place_of(region: str | None) -> str | None:
    """An imported region as an ISO 3166-2 place: "ct", "US-CT" -> "US-CT"; "ON" -> "CA-ON"; else None."""
    if not region:
        return None
    code = region.strip().upper().removeprefix("US-")
    if code in US_STATES:
        return f"US-{code}"
    code = code.removeprefix("CA-")
    return f"CA-{code}" if code in CA_PROVINCES else None


@lru_cache(maxsize=1024)
def applicable(
    number_places: tuple[str, ...], home_region: str | None, home_confirmed: bool
) -> tuple[Jurisdiction, ...]:
    """Every row that could apply, in table order.

    `number_places` come from the number (`phone.places_for_number`): "US-CT",
    "CA-ON", or a bare country ("US" when the area code names no state, "GB").
    """
    home = place_of(home_region)
    places = {home} if home and home_confirmed else {*number_places, *([home] if home else [])}
    codes: set[str] = set()
    for place in places:
        country = place.split("-")[0]
        codes.add(country)
        if place == "US":  # a US number whose area code names no state: it could be in any
            codes.update(row.code for row in STATES)
        else:
            codes.add(place)
    return tuple(row for row in TABLE if row.code in codes)


@lru_cache(maxsize=512)
def holidays_in(code: str, year: int) -> dict[date, str]:
    """The legal holidays of a place in a year, from the `holidays` package (loaded on first use)."""
    import holidays  # only rows that bar holidays need it, once per year and place

    country, _, subdivision = code.partition("-")
    supported = holidays.country_holidays(country).supported_categories
    kinds = tuple(kind for kind in ("government", "public") if kind in supported)  # official days off, not folklore
    found = holidays.country_holidays(country, subdiv=subdivision or None, years=year, categories=kinds)
    return {day: str(name) for day, name in sorted(found.items())}


def barred_holiday(row: Jurisdiction, day: date) -> str | None:
    """The holiday's name if the row bars that local date as a holiday."""
    return holidays_in(row.code, day.year).get(day) if row.holidays else None


def _cell(hours: Hours | None) -> str:
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}" if hours else "none"


def describe_week(row: Jurisdiction) -> str:
    """ "Mon-Fri 09:00-18:00; Sat 10:00-17:00; Sun none", shortest form."""
    if row.week is None:
        return "no hours rule"
    runs: list[tuple[int, int, Hours | None]] = []
    for day, hours in enumerate(row.week):
        if runs and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], day, hours)
        else:
            runs.append((day, day, hours))
    if len(runs) == 1:
        return f"every day {_cell(runs[0][2])}"
    parts = []
    for first, last, hours in runs:
        days = WEEKDAYS[first][:3] if first == last else f"{WEEKDAYS[first][:3]}-{WEEKDAYS[last][:3]}"
        parts.append(f"{days} {_cell(hours)}")
    return "; ".join(parts)


def markdown_table() -> str:
    """The table as docs/policies.md shows it (between its jurisdictions markers)."""
    lines = [
        "| jurisdiction | local hours for marketing texts | legal holidays | rule | checked | sources |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in TABLE:
        holidays = "barred" if row.holidays else "-"
        status = {"read": "rule text read", "reported": "reported, text not read", "unconfirmed": "UNCONFIRMED"}
        checked = f"{row.checked:%Y-%m-%d}, {status.get(row.status, row.status)}"
        stop = " " if row.law.endswith(".") else ". "
        rule = row.law + (f"{stop}{row.note[0].upper()}{row.note[1:]}" if row.note else "")
        links = " ".join(f"[{n}]({url})" for n, url in enumerate(row.sources, 1))
        lines.append(
            f"| {row.name} (`{row.code}`) | {describe_week(row)} | {holidays} | {rule} | {checked} | {links} |"
        )
    return "\n".join(lines) + "\n"
