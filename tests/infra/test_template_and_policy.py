"""infra/ and .chalice/ against the code: least privilege, alarms on real metrics,
one schema for deploy and tests."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from local.schema import TEMPLATE, create_table_request

ROOT = Path(__file__).resolve().parents[2]
CODE = sorted((ROOT / "chalicelib").rglob("*.py"))
STAGES = ("dev", "prod")
# Inside TransactWriteItems each item is authorised as its own action.
TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(TEMPLATE.read_text())
    return loaded


def policy_files(stage: str) -> dict[str, str]:
    """Lambda function -> its policy file, as .chalice/config.json assigns them."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]
    files = {"api_handler": config["iam_policy_file"]}
    files.update({name: f["iam_policy_file"] for name, f in config["lambda_functions"].items()})
    return files


def granted(stage: str, function: str | None = None) -> dict[str, list[str]]:
    """Action -> the resources it is granted on, for one function or all of the stage's."""
    grants: dict[str, list[str]] = {}
    for name, file in policy_files(stage).items():
        if function not in (None, name):
            continue
        for statement in json.loads((ROOT / ".chalice" / file).read_text())["Statement"]:
            assert statement["Effect"] == "Allow"
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in statement["Action"]:
                grants.setdefault(action, []).extend(r for r in resources if r not in grants.get(action, []))
    return grants


SERVICES = ("dynamodb", "ssm", "sqs")
# SQS authorises a batch call as its single-message action.
BATCH_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}
# What Lambda's event source mapping does with the function's role, not the code.
CONSUMER_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


def aws_calls_in_code() -> set[str]:
    """Every DynamoDB, SSM and SQS action the code can call, read from its syntax tree."""
    session = botocore.session.get_session()
    operations = {
        service: {
            xform_name(name): BATCH_ACTIONS.get(name, name)
            for name in session.get_service_model(service).operation_names
        }
        for service in SERVICES
    }
    actions: set[str] = set()
    for path in CODE:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            # called (client.get_item(...)) or handed on (all_pages(client.scan, ...))
            if isinstance(node, ast.Attribute):
                for service, names in operations.items():
                    if node.attr in names and node.attr != "transact_write_items":
                        actions.add(f"{service}:{names[node.attr]}")
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in TRANSACT_ITEM_ACTIONS:
                        actions.add(f"dynamodb:{TRANSACT_ITEM_ACTIONS[key.value]}")
    return actions


def metrics_emitted_by_code() -> set[str]:
    names = set()
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "count" and node.args:
                first = node.args[0]
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), f"{path}: literal names only"
                names.add(first.value)
    return names


@pytest.mark.parametrize("stage", STAGES)
def test_no_wildcard_actions_or_resources(stage: str) -> None:
    for action, resources in granted(stage).items():
        assert "*" not in action, action
        assert "*" not in resources, f"{action} on every resource"


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_allows_exactly_the_calls_the_code_makes(stage: str) -> None:
    called = aws_calls_in_code()
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem", "sqs:SendMessage"} <= called
    allowed = {a for a in granted(stage) if a.split(":")[0] in SERVICES} - CONSUMER_ACTIONS
    assert called - allowed == set(), "the code calls what the policy refuses"
    assert allowed - called == set(), "the policy grants what the code never calls"


@pytest.mark.parametrize("stage", STAGES)
def test_the_consumers_may_read_exactly_their_stages_queues(stage: str) -> None:
    resources = template()["Resources"]
    consumed = {
        resources[function]["Properties"]["Events"][event]["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[1]
        for function, event in (("Plan", "PlanSqsEventSource"), ("Send", "SendSqsEventSource"))
    }
    names = {r["Properties"]["QueueName"]["Fn::Sub"] for r in resources.values() if r.get("Type") == "AWS::SQS::Queue"}
    assert consumed <= names
    queue = {name.rsplit("-", 1)[1]: f"arn:aws:sqs:*:*:{name.replace('${Stage}', stage)}" for name in consumed}
    for function in ("plan", "send"):
        for action in CONSUMER_ACTIONS:
            assert granted(stage, function)[action] == [queue[function]]
    assert granted(stage, "tick")["sqs:SendMessage"] == [queue["plan"]]  # it queues planning
    assert granted(stage, "plan")["sqs:SendMessage"] == [queue["send"]]  # which queues sends
    api_queues = {a: r for a, r in granted(stage, "api_handler").items() if a.startswith("sqs:")}
    assert api_queues == {"sqs:SendMessage": [queue["send"]]}  # closing a conversation releases held texts


def test_every_consumed_queue_dead_letters_and_outlasts_its_function() -> None:
    resources = template()["Resources"]
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for function, queue in (("plan", "PlanQueue"), ("send", "SendQueue")):
        properties = resources[queue]["Properties"]
        dead_letters = properties["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert resources[dead_letters]["Type"] == "AWS::SQS::Queue"
        assert properties["RedrivePolicy"]["maxReceiveCount"] >= 3
        for stage in STAGES:
            timeout = config["stages"][stage]["lambda_functions"][function]["lambda_timeout"]
            assert properties["VisibilityTimeout"] >= 6 * timeout  # AWS's advice for SQS event sources


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_names_the_stages_own_table_and_secret(stage: str) -> None:
    table_name = template()["Resources"]["ConversationTable"]["Properties"]["TableName"]["Fn::Sub"]
    grants = granted(stage)
    assert grants["dynamodb:GetItem"][0].endswith("table/" + table_name.replace("${Stage}", stage))
    env = template()["Globals"]["Function"]["Environment"]["Variables"]
    secrets = [
        env[name]["Fn::Sub"].replace("${Stage}", stage) for name in ("TWILIO_AUTH_TOKEN_PARAM", "OPERATOR_TOKENS_PARAM")
    ]
    assert sorted(grants["ssm:GetParameter"]) == sorted(f"arn:aws:ssm:*:*:parameter{name}" for name in secrets)
    assert granted(stage, "tick").keys().isdisjoint({"ssm:GetParameter"}), "the tick needs no secret"
    assert granted(stage, "plan").keys().isdisjoint({"ssm:GetParameter"}), "planning needs no secret"


def test_no_secret_value_is_deployed_in_the_template() -> None:
    env = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert "TWILIO_AUTH_TOKEN" not in env and "TWILIO_AUTH_TOKEN_PARAM" in env
    assert "OPERATOR_TOKEN_SHA256" not in env and "OPERATOR_TOKENS_PARAM" in env
    assert not any("Token" in name and "Param" not in name for name in template()["Parameters"])


def test_the_table_is_durable_encrypted_and_on_demand() -> None:
    properties = template()["Resources"]["ConversationTable"]["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_tests_create_the_deployed_schema() -> None:
    deployed = template()["Resources"]["ConversationTable"]["Properties"]
    tested = create_table_request("any")
    for key in ("AttributeDefinitions", "KeySchema", "LocalSecondaryIndexes", "GlobalSecondaryIndexes", "BillingMode"):
        assert tested[key] == deployed[key]


def test_alarms_cover_what_operators_need_and_notify_the_topic() -> None:
    resources = template()["Resources"]
    alarms = {name: r["Properties"] for name, r in resources.items() if r.get("Type") == "AWS::CloudWatch::Alarm"}
    assert {"WebhookServerErrorsAlarm", "ForgedSignaturesAlarm", "DeliveryFailureRateAlarm", "OptOutSpikeAlarm"} <= set(
        alarms
    )
    for properties in alarms.values():
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert "docs/operations.md#" in properties["AlarmDescription"]


def dashboard_widgets() -> list[dict[str, Any]]:
    body = template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets: list[dict[str, Any]] = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    return widgets


def custom_metrics_in_template() -> set[str]:
    names = {
        metric[1]
        for widget in dashboard_widgets()
        for metric in widget["properties"]["metrics"]
        if isinstance(metric[0], str) and metric[0] == "Rapport"
    }
    for resource in template()["Resources"].values():
        properties = resource.get("Properties", {})
        if properties.get("Namespace") == "Rapport":
            names.add(properties["MetricName"])
        for query in properties.get("Metrics", []):
            metric = query.get("MetricStat", {}).get("Metric", {})
            if metric.get("Namespace") == "Rapport":
                names.add(metric["MetricName"])
    return names


def test_every_custom_metric_in_alarms_and_dashboard_is_emitted_by_the_code() -> None:
    referenced = custom_metrics_in_template()
    assert {"InboundMessages", "Keywords", "DeliveryReceipts", "ForgedSignatures"} <= referenced
    assert referenced <= metrics_emitted_by_code()


def test_the_dashboard_body_is_valid_json_once_substituted() -> None:
    widgets = dashboard_widgets()
    titles = {w["properties"]["title"] for w in widgets}
    assert {"Inbound texts, by kind", "Delivery rate and opt-out rate", "Errors"} <= titles
    assert {"Campaign texts, by what the sender did", "Queues: oldest waiting job and dead letters"} <= titles


def test_every_alarm_points_at_a_runbook_section_that_exists() -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text()
    anchors = {
        "#" + re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("#")
    }
    for resource in template()["Resources"].values():
        description = resource.get("Properties", {}).get("AlarmDescription")
        if description:
            anchor = re.search(r"docs/operations\.md(#[\w-]+)", description)
            assert anchor is not None and anchor.group(1) in anchors, description
