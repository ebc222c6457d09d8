"""The local stack's demo data (`make run`) on moto: two branches with their own
numbers, and the story Rapport exists for: Tom ordered once from Newcastle, lives
in London, and Newcastle's offers never reach him."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib import bootstrap
from chalicelib.domain.campaign import Audience, CampaignSpec
from chalicelib.domain.reorder import offer
from chalicelib.services import campaigns
from local.demo import TOM, seed
from tests.fakes import StepClock
from tests.integration.conftest import settings_for

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def test_the_demo_has_two_branches_and_tom_is_out_of_newcastles_area(dynamodb: DynamoDBClient, table: str) -> None:
    first = seed(dynamodb, table)
    assert seed(dynamodb, table) == first  # a restart keeps what is there
    # planned for tomorrow's noon: the preview's quiet hours never depend on when the test runs
    noon = (datetime.now(UTC) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    deps = bootstrap.on_dynamodb(settings_for(table), dynamodb, StepClock(noon))
    assert sorted((store.id, store.sender) for store in deps.stores.list()) == [
        ("leeds", "+441134960000"), ("newcastle", "+441914960000"),
    ]  # fmt: skip
    tom = deps.store.get_contact(TOM)
    assert tom is not None and (tom.store_id, tom.store_source, tom.orders.count) == ("newcastle", "order", 1)
    offered = offer(tom, noon, lambda store_id: store_id.title())  # `make text ... BODY=REORDER`
    assert offered is not None and offered[1].startswith("Your usual from Newcastle: 1 x Pepperoni, £18.99.")
    for store_id, expected in [
        ("newcastle", {"drop/out_of_area": 1}),
        ("leeds", {"send/clear": 2, "ask/stale_location": 1}),
    ]:
        spec = CampaignSpec(name=f"{store_id} 2-for-1", message="{store_name}: 2-for-1 tonight",
                            audience=Audience(stores=[store_id]), send_at=noon)  # fmt: skip
        campaign = campaigns.create_campaign(spec, deps.campaigns, deps.clock)
        preview = campaigns.preview(campaign.id, deps.campaigns, deps.store, deps.clock, deps.policy, "Europe/London",
                                    deps.directory)  # fmt: skip
        assert dict(preview.decisions) == expected, store_id
