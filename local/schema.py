"""Create tables from infra/resources.json, so the tested schema is the deployed one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "resources.json"
CONVERSATION_TABLE = "ConversationTable"
# CloudFormation-only properties with no CreateTable equivalent.
_CFN_ONLY = {"PointInTimeRecoverySpecification", "TimeToLiveSpecification", "Tags", "TableName"}


def table_properties(logical_id: str = CONVERSATION_TABLE) -> dict[str, Any]:
    resources = json.loads(TEMPLATE.read_text())["Resources"]
    properties: dict[str, Any] = resources[logical_id]["Properties"]
    return properties


def create_table_request(table_name: str, logical_id: str = CONVERSATION_TABLE) -> dict[str, Any]:
    properties = table_properties(logical_id)
    request = {key: value for key, value in properties.items() if key not in _CFN_ONLY}
    request["TableName"] = table_name
    if "SSESpecification" in request:  # CloudFormation spells it SSEEnabled, the API Enabled
        request["SSESpecification"] = {"Enabled": request["SSESpecification"]["SSEEnabled"]}
    return request


def create_table(client: DynamoDBClient, table_name: str) -> None:
    """Create the table (and its TTL setting) unless it exists already."""
    try:
        client.create_table(**create_table_request(table_name))
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(TableName=table_name)
    ttl = table_properties()["TimeToLiveSpecification"]
    client.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
