"""The pure policy engine: decisions per second on one core, over a varied mix
of contacts (half UK, half US numbers across states with their own texting
rules, found from the area code or an imported region; zones confirmed or
guessed from the number; engagement, homes) and intents, at times spread
across a year of daylight-saving changes and holidays."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from bench._support import Figure, log
from chalicelib.domain.contact import (
    ConsentEvent,
    ConsentState,
    Contact,
    Engagement,
    HomeLocation,
    TimeZone,
)
from chalicelib.domain.policy import Area, Intent, PolicySettings, Purpose, decide

CONTACTS = 5_000
DECISIONS = 200_000
ZONES = ["Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles", "Australia/Sydney"]
# area code -> (zone, state): Connecticut, Florida, Kentucky, Michigan, Alabama, Louisiana, Texas, New York
US_NUMBERS = {
    "203": ("America/New_York", "CT"),
    "305": ("America/New_York", "FL"),
    "502": ("America/New_York", "KY"),
    "313": ("America/Detroit", "MI"),
    "205": ("America/Chicago", "AL"),
    "504": ("America/Chicago", "LA"),
    "512": ("America/Chicago", "TX"),
    "212": ("America/New_York", "NY"),
}


def mix(rng: random.Random, start: datetime) -> list[tuple[Contact, Intent, datetime]]:
    leeds = Area("Leeds", ("LS",))
    cases = []
    for i in range(CONTACTS):
        now = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        guessed = rng.random() < 0.3
        us = i % 2 == 1
        area_code = rng.choice(sorted(US_NUMBERS))
        zone, state = US_NUMBERS[area_code]
        contact = Contact(
            phone=f"+1{area_code}555{i:04d}" if us else f"+4477009{i:05d}",
            created_at=now - timedelta(days=400),
            consent_event=ConsentEvent(state=ConsentState.OPTED_IN, source="import", at=now - timedelta(days=300)),
            time_zone=TimeZone(
                confirmed=None if guessed else (zone if us else rng.choice(ZONES)),
                candidates=(["America/New_York", "America/Chicago"] if us else rng.sample(ZONES, 3)) if guessed else [],
            ),
            engagement=Engagement(
                last_inbound_at=now - timedelta(days=rng.randrange(200)),
                last_outbound_at=now - timedelta(hours=rng.randrange(200)),
                unanswered_marketing=rng.randrange(4),
                marketing_sent_at=[now - timedelta(days=rng.randrange(10)) for _ in range(rng.randrange(4))],
            ),
            home=HomeLocation(
                area="06510" if us else rng.choice(["LS1 1AA", "SW1A 1AA"]),
                region=state if us and rng.random() < 0.5 else None,  # imported, or only the area code says
                confirmed_at=now - timedelta(days=30),
            ),
        )
        purpose = rng.choice([Purpose.MARKETING, Purpose.MARKETING, Purpose.TRANSACTIONAL])
        intent = Intent(purpose=purpose, area=leeds if rng.random() < 0.5 else None, deadline=now + timedelta(days=2))
        cases.append((contact, intent, now))
    return cases


def run() -> list[Figure]:
    cases = mix(random.Random(7), datetime(2026, 1, 1, tzinfo=UTC))
    settings = PolicySettings()
    log(f"policy: {DECISIONS} decisions over {CONTACTS} contacts")
    started = time.perf_counter()
    for n in range(DECISIONS):
        contact, intent, now = cases[n % CONTACTS]
        decide(contact, intent, now, settings)
    elapsed = time.perf_counter() - started
    return [("policy.decisions_per_s", DECISIONS / elapsed, "decisions/s")]
