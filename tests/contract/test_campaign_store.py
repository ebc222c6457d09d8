"""Campaign storage: the fake and DynamoDB hold to one contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.adapters.dynamodb_store import DynamoCampaignStore
from chalicelib.domain.campaign import Audience, Campaign, Location
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.services.ports import CampaignStore
from tests.fakes import InMemoryCampaignStore

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "dynamodb"])
def campaigns(request: pytest.FixtureRequest) -> CampaignStore:
    if request.param == "memory":
        return InMemoryCampaignStore()
    return DynamoCampaignStore(request.getfixturevalue("dynamodb"), request.getfixturevalue("table"))


def campaign(campaign_id: str = "leeds-2for1", **changes: object) -> Campaign:
    return Campaign(
        id=campaign_id,
        name="2-for-1 Tuesday",
        message="Hi {first_name|there}, 2-for-1 pizzas tonight at {branch|our Leeds branch}",
        audience=Audience(tags=["pizza"]),
        location=Location(name="Leeds", prefixes=["LS1", "ls 6"]),
        send_at=AT,
        created_at=AT,
        updated_at=AT,
    ).model_copy(update=changes)


def test_a_campaign_round_trips(campaigns: CampaignStore) -> None:
    assert campaigns.get("leeds-2for1") is None
    campaigns.save(campaign(), None)
    saved = campaigns.get("leeds-2for1")
    assert saved is not None and saved.version == 1
    assert saved.model_copy(update={"version": 0}) == campaign()
    assert saved.location is not None and saved.location.prefixes == ["LS1", "LS6"]


def test_versions_guard_concurrent_edits(campaigns: CampaignStore) -> None:
    campaigns.save(campaign(), None)
    with pytest.raises(ConcurrentUpdateError):
        campaigns.save(campaign(name="other"), None)
    with pytest.raises(ConcurrentUpdateError):
        campaigns.save(campaign(name="stale"), 3)
    campaigns.save(campaign(name="renamed"), 1)
    assert [c.name for c in campaigns.list()] == ["renamed"]


def test_list_returns_every_campaign(campaigns: CampaignStore) -> None:
    for n in range(3):
        campaigns.save(campaign(f"c{n}"), None)
    assert sorted(c.id for c in campaigns.list()) == ["c0", "c1", "c2"]
