"""Create tables and queues from infra/resources.json, so what is tested is what is deployed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

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


def create_queues(client: SQSClient, stage: str, visibility_s: Mapping[str, int] | None = None) -> dict[str, str]:
    """The template's SQS queues (dead-letter ones first), named for `stage`:
    logical id -> queue URL. `visibility_s`: logical id -> a visibility timeout
    instead of the template's (tests that run AWS's clocks scaled down)."""
    resources = json.loads(TEMPLATE.read_text())["Resources"]
    queues = {name: r["Properties"] for name, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n]):  # targets before their sources
        properties = queues[name]
        attributes: dict[Any, str] = {
            key: str(properties[key]) for key in ("VisibilityTimeout", "MessageRetentionPeriod") if key in properties
        }
        if name in (visibility_s or {}):
            attributes["VisibilityTimeout"] = str((visibility_s or {})[name])
        if "RedrivePolicy" in properties:
            redrive = properties["RedrivePolicy"]
            target = arns[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": target, "maxReceiveCount": redrive["maxReceiveCount"]}
            )
        queue_name = properties["QueueName"]["Fn::Sub"].replace("${Stage}", stage)
        urls[name] = client.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
        found = client.get_queue_attributes(QueueUrl=urls[name], AttributeNames=["QueueArn"])
        arns[name] = found["Attributes"]["QueueArn"]
    return urls
