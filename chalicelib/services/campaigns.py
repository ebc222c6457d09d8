"""Use cases: manage campaigns, import contacts, preview a run."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from chalicelib.domain.campaign import Campaign, CampaignSpec
from chalicelib.domain.contact import (
    MAX_ATTRIBUTES,
    MAX_TAGS,
    Attribute,
    ConsentEvent,
    ConsentState,
    Contact,
    HomeLocation,
    ProfileLimitError,
    StoreSource,
    TimeZone,
    with_store,
)
from chalicelib.domain.errors import RapportError, RunTrippedError
from chalicelib.domain.policy import PolicySettings, Verdict
from chalicelib.domain.runs import Run
from chalicelib.domain.stores import Store, home_store
from chalicelib.services.ports import (
    NOTHING_REMEMBERED,
    CampaignStore,
    Clock,
    ConversationStore,
    Remembered,
    RunStore,
    StoreBook,
)
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.runs import bring_forward, decisions_for_audience
from chalicelib.services.stores import StoreDirectory

SCAN_SEGMENTS = 4
CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of ours an importer's clock may be
SAMPLES_PER_REASON = 3


class UnknownCampaignError(RapportError, LookupError):
    """No campaign has that id."""


BREAKER = "breaker"  # who paused a campaign when no person did


def create_campaign(spec: CampaignSpec, campaigns: CampaignStore, clock: Clock, by: str | None = None) -> Campaign:
    now = clock.now()
    campaign = Campaign(
        **spec.model_dump(),
        id=f"cmp_{secrets.token_hex(6)}",
        created_at=now,
        updated_at=now,
        created_by=by,
        updated_by=by,
    )
    campaigns.save(campaign, None)
    return campaign.model_copy(update={"version": 1})


def get_campaign(campaign_id: str, campaigns: CampaignStore) -> Campaign:
    campaign = campaigns.get(campaign_id)
    if campaign is None:
        raise UnknownCampaignError(f"no campaign {campaign_id!r}")
    return campaign


def update_campaign(
    campaign_id: str, spec: CampaignSpec, campaigns: CampaignStore, clock: Clock, by: str | None = None
) -> Campaign:
    current = get_campaign(campaign_id, campaigns)
    updated = current.model_copy(update={**dict(spec), "updated_at": clock.now(), "updated_by": by})
    campaigns.save(updated, current.version)
    return updated.model_copy(update={"version": current.version + 1})


def pause_campaign(
    campaign_id: str, reason: str | None, campaigns: CampaignStore, clock: Clock, by: str | None = None
) -> Campaign:
    """Pause it: an operator (no reason; `by` names them). A pause is kept in one
    place, the campaign; the breaker's (trip_breaker) writes it with the run it tripped."""

    def attempt() -> Campaign:
        current = get_campaign(campaign_id, campaigns)
        paused = _paused(current, reason, by or BREAKER, clock)
        if paused is None:
            return current
        campaigns.save(paused, current.version)
        return paused.model_copy(update={"version": current.version + 1})

    return retry_on_conflict(attempt)


def trip_breaker(
    run_id: str, campaign_id: str, reason: str, campaigns: CampaignStore, runs: RunStore, clock: Clock
) -> bool:
    """The breaker pauses the campaign of a run whose texts hurt: the run's breaker
    and the campaign's pause in one write, so that neither stands without the
    other. False when the run tripped before (or an operator resumed it since)."""

    def attempt() -> bool:
        current = campaigns.get(campaign_id)
        unit = runs.unit()
        unit.add(runs.tripped(run_id, reason))
        if current is not None and (paused := _paused(current, reason, BREAKER, clock)) is not None:
            unit.add(campaigns.saved(paused, current.version))
        unit.commit()
        return True

    try:
        return retry_on_conflict(attempt)
    except RunTrippedError:
        return False


def _paused(current: Campaign, reason: str | None, by: str, clock: Clock) -> Campaign | None:
    """The campaign paused, to be written; None when it is paused already."""
    paused = current.paused(reason, clock.now())
    return None if paused is current else paused.model_copy(update={"updated_by": by})


def resume_campaign(
    campaign_id: str, campaigns: CampaignStore, runs: RunStore, clock: Clock, by: str | None = None
) -> Campaign:
    """Resume it (one rule, whoever paused it: an operator or the breaker) and clear
    what the breaker set on its runs, in one write; then bring the texts its live
    runs held for the pause forward to the minute under way: they go within a
    minute or two, not at the hourly re-check. Safe to repeat and to run twice at
    once (the ledger sends each text once)."""

    def attempt() -> tuple[Campaign, list[Run]]:
        current = get_campaign(campaign_id, campaigns)
        resumed = current.resumed(clock.now())
        its_runs = runs.list_runs(campaign_id, since=clock.now() - timedelta(hours=current.relevance_hours))
        unit = runs.unit()
        if resumed is not current:
            resumed = resumed.model_copy(update={"updated_by": by})
            unit.add(campaigns.saved(resumed, current.version))
        unit.add(*(runs.cleared(run.id) for run in its_runs if run.breaker))
        unit.commit()
        return resumed.model_copy(update={"version": current.version + (resumed is not current)}), its_runs

    campaign, its_runs = retry_on_conflict(attempt)
    now = clock.now()
    for run in its_runs:
        if campaign.deadline_for(run.scheduled_for) > now:  # a run past its deadline holds nothing that could go
            bring_forward(run.id, runs, now)
    return campaign


@dataclass(frozen=True)
class ContactRecord:
    """One contact as an import gives it; consent needs its source and time."""

    phone: str
    attributes: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    home: HomeLocation | None = None
    consent: ConsentEvent | None = None
    time_zone: str | None = None
    store_id: str | None = None
    remembered_stop: ConsentEvent | None = None  # its STOP, kept through an erasure (services/personal.py)


class _Unread:
    """No read of the contact at hand: the import reads it."""


UNREAD = _Unread()


def import_contact(
    record: ContactRecord,
    store: ConversationStore,
    clock: Clock,
    zones_for: Callable[[str], tuple[str, ...]],
    by: str | None = None,
    stores: Sequence[Store] = (),
    read: Contact | _Unread | None = UNREAD,
) -> Contact:
    """Create or update one contact (`stores`: the live ones, for a home's store;
    `read`: the contact as a batch read found it, written on condition that it is
    still so: a conflict reads it again)."""
    now = clock.now()
    reads = [] if isinstance(read, _Unread) else [read]

    def attempt() -> Contact:
        current = reads.pop() if reads else store.get_contact(record.phone)
        check_limits(record, current)
        base = current or Contact(
            phone=record.phone, created_at=now, time_zone=TimeZone(candidates=list(zones_for(record.phone)))
        )
        contact = imported(base, record, now, by, stores)
        store.save_contact(contact, current.version if current else None, tags_before=current.tags if current else None)
        given = [event for event in (record.remembered_stop, record.consent) if event is not None]
        if given:  # kept as given, standing or not: a brand's claim is on record with its time
            store.timeline.add_trail(record.phone, given, [])
        return contact

    return retry_on_conflict(attempt)


def imported(base: Contact, record: ContactRecord, now: datetime, by: str | None, stores: Sequence[Store]) -> Contact:
    """The contact with the record applied. Its consent is the brand's record
    (Contact.with_consent): it never undoes the customer's own STOP. Its store is
    the record's `store_id`, else the one of `stores` its confirmed home lies in
    (when no import or order named one)."""
    attributes = dict(base.attributes)
    for name, value in record.attributes.items():
        attributes[name] = Attribute(value=value, source="import", updated_at=now, by=by)
    update: dict[str, object] = {"attributes": attributes, "tags": sorted({*base.tags, *record.tags})}
    if record.home is not None:
        update["home"] = record.home
    if record.time_zone is not None:
        update["time_zone"] = base.time_zone.model_copy(update={"confirmed": record.time_zone})
    contact = base.model_copy(update=update)
    if record.store_id is not None:
        contact = with_store(contact, record.store_id, StoreSource.IMPORT, now)
    else:
        contact = home_store(contact, stores, now)
    for event in (record.remembered_stop, record.consent):
        contact = contact.with_consent(event) if event is not None else contact
    return contact


class RecordsRefusedError(ProfileLimitError):
    """Records of an import that would not fit their profiles: (index, reason) each."""

    def __init__(self, refused: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(reason for _, reason in refused))
        self.refused = refused


def check_limits(record: ContactRecord, current: Contact | None) -> None:
    """ProfileLimitError when the record would grow the profile past its bounds."""
    tags = {*record.tags, *(current.tags if current else ())}
    attributes = {*record.attributes, *(current.attributes if current else ())}
    if len(tags) > MAX_TAGS:
        raise ProfileLimitError(f"{record.phone} would have {len(tags)} tags; at most {MAX_TAGS}")
    if len(attributes) > MAX_ATTRIBUTES:
        raise ProfileLimitError(f"{record.phone} would have {len(attributes)} attributes; at most {MAX_ATTRIBUTES}")


def import_contacts(
    records: list[ContactRecord],
    store: ConversationStore,
    stores: StoreBook,
    clock: Clock,
    zones_for: Callable[[str], tuple[str, ...]],
    by: str | None = None,
    remembered: Remembered = NOTHING_REMEMBERED,
) -> int:
    """Import every record, once all are known to fit their profiles and to name
    live stores (a race with another import can still refuse one later, with
    nothing of it stored). RecordsRefusedError names every record refused, by its index.
    `remembered`: a number's STOP kept through its erasure, looked up for each
    record that opts in or makes a contact anew (it stands until the customer
    opts in themselves)."""
    known = {found.id: found for found in stores.list()}
    latest = clock.now() + CLOCK_SKEW
    refused: list[tuple[int, str]] = []
    new: set[str] = set()
    profiles = {contact.phone: contact for contact in store.get_contacts([record.phone for record in records])}
    for index, record in enumerate(records):
        try:
            current = profiles.get(record.phone)
            new |= {record.phone} if current is None else set()
            check_limits(record, current)
            check_store(record.store_id, known)
            check_stamp(record.consent, latest)
        except ProfileLimitError as error:
            refused.append((index, str(error)))
    if refused:
        raise RecordsRefusedError(refused)
    live = [found for found in known.values() if not found.retired]
    for record in records:
        if record.phone in new or (record.consent is not None and record.consent.state == ConsentState.OPTED_IN):
            record = replace(record, remembered_stop=remembered(record.phone))
        import_contact(record, store, clock, zones_for, by, live, read=profiles.get(record.phone))
    return len(records)


def check_stamp(consent: ConsentEvent | None, latest: datetime) -> None:
    """ProfileLimitError for a consent stamped after `latest`: it was given when
    it says, and a stamp in the future (a wrong offset) would outlast later words."""
    if consent is not None and consent.at > latest:
        raise ProfileLimitError(
            f"consent at {consent.at.isoformat()} is in the future: a consent is stamped with when it was given"
        )


def check_store(store_id: str | None, known: Mapping[str, Store]) -> None:
    """ProfileLimitError when the record names a store that does not exist or is retired."""
    if store_id is None:
        return
    found = known.get(store_id)
    if found is None:
        raise ProfileLimitError(f"store_id {store_id!r}: no such store (GET /api/stores lists them)")
    if found.retired:
        raise ProfileLimitError(f"store_id {store_id!r}: the store is retired and takes no new contacts")


@dataclass
class Preview:
    """What a run would decide, without sending or recording anything."""

    campaign_id: str
    evaluated_at: datetime
    audience: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    left_out: Counter[str] = field(default_factory=Counter)  # contacts not in the audience, by why
    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def preview(
    campaign_id: str,
    campaigns: CampaignStore,
    store: ConversationStore,
    clock: Clock,
    settings: PolicySettings,
    brand_zone: str,
    stores: StoreDirectory,
) -> Preview:
    """The planning rule over every contact, at the time the (next) run will plan."""
    campaign = get_campaign(campaign_id, campaigns)
    now = clock.now()
    scheduled = campaign.next_run(now, brand_zone) or campaign.send_at
    at = max(now, scheduled)
    result = Preview(campaign_id=campaign.id, evaluated_at=at)
    intent = campaign.intent(scheduled, stores.all(wanted=campaign.audience.stores))
    for segment in range(SCAN_SEGMENTS):
        for page in store.scan_contacts(segment, SCAN_SEGMENTS):
            for contact, decision in decisions_for_audience(campaign, intent, page, at, settings, result.left_out):
                result.audience += 1
                key = f"{decision.verdict}/{decision.reason}"
                result.decisions[key] += 1
                examples = result.samples.setdefault(key, [])
                if len(examples) < SAMPLES_PER_REASON:
                    detail = decision.explanation
                    if decision.verdict == Verdict.SEND:
                        detail = (
                            f"asks {campaign.prompt_id}"
                            if campaign.prompt_id
                            else campaign.text_for(contact, stores.template_fields(contact))
                        )
                    examples.append({"phone": contact.phone, "detail": detail})
    return result
