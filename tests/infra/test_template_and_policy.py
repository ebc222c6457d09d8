"""infra/ and .chalice/ against the code: least privilege, alarms on real metrics,
one schema for deploy and tests; and the packaged template (what CloudFormation gets)
against what operations need: alarms that reach a person, a watched and dead-lettered
tick, encrypted queues, access logs without phone numbers, tracing."""

from __future__ import annotations

import ast
import fnmatch
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
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


@functools.cache
def packaged(stage: str) -> dict[str, Any]:
    """`chalice package` of the stage with infra/ merged in, as `make package` builds it
    (quick once .chalice/deployments holds the dependency zip). `make test` packages both
    stages just before the suite and says where (RAPPORT_PACKAGED_DIR): read from there."""
    built = os.environ.get("RAPPORT_PACKAGED_DIR")
    if built:
        return dict(json.loads((ROOT / built / stage / "sam.json").read_text()))
    chalice = Path(sys.executable).with_name("chalice")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [str(chalice), "package", "--stage", stage, "--merge-template", str(TEMPLATE), out],
            cwd=ROOT,
            env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")},
            check=True,
            capture_output=True,
        )
        loaded: dict[str, Any] = json.loads((Path(out) / "sam.json").read_text())
    return loaded


def of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r.get("Type") == kind}


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


# X-Ray has no resource-level permissions: these are granted on "*" or not at all.
UNSCOPED_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.mark.parametrize("stage", STAGES)
def test_no_wildcard_actions_or_resources(stage: str) -> None:
    for action, resources in granted(stage).items():
        assert "*" not in action, action
        if action in UNSCOPED_ACTIONS:
            assert resources == ["*"], action
        else:
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
        for function, event in (
            ("Plan", "PlanSqsEventSource"),
            ("Send", "SendSqsEventSource"),
            ("Events", "EventsSqsEventSource"),
        )
    }
    names = {r["Properties"]["QueueName"]["Fn::Sub"] for r in resources.values() if r.get("Type") == "AWS::SQS::Queue"}
    assert consumed <= names
    queue = {name.rsplit("-", 1)[1]: f"arn:aws:sqs:*:*:{name.replace('${Stage}', stage)}" for name in consumed}
    for function in ("plan", "send", "events"):
        for action in CONSUMER_ACTIONS:
            assert granted(stage, function)[action] == [queue[function]]
    # it queues planning; Lambda dead-letters its failed invocations with its role
    tick_dead_letters = f"arn:aws:sqs:*:*:{tick_dead_letter_queue_name(stage)}"
    assert granted(stage, "tick")["sqs:SendMessage"] == [queue["plan"], tick_dead_letters]
    assert granted(stage, "plan")["sqs:SendMessage"] == [queue["send"]]  # which queues sends
    assert granted(stage, "events")["sqs:SendMessage"] == [queue["events"]]  # a retry, a text's later slot
    # texts, deferred and retried; an order event queued there before the events queue existed, passed on
    assert granted(stage, "send")["sqs:SendMessage"] == [queue["send"], queue["events"]]
    api_queues = {a: r for a, r in granted(stage, "api_handler").items() if a.startswith("sqs:")}
    # closing a conversation releases held texts; order events and a YES's order go to the events queue
    assert api_queues == {"sqs:SendMessage": [queue["send"], queue["events"]]}


def test_every_consumed_queue_dead_letters_and_outlasts_its_function() -> None:
    resources = template()["Resources"]
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for function, queue in (("plan", "PlanQueue"), ("send", "SendQueue"), ("events", "EventsQueue")):
        properties = resources[queue]["Properties"]
        dead_letters = properties["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert resources[dead_letters]["Type"] == "AWS::SQS::Queue"
        assert properties["RedrivePolicy"]["maxReceiveCount"] >= 3
        for stage in STAGES:
            timeout = config["stages"][stage]["lambda_functions"][function]["lambda_timeout"]
            assert properties["VisibilityTimeout"] >= 6 * timeout  # AWS's advice for SQS event sources


def tick_dead_letter_queue_name(stage: str) -> str:
    resources = template()["Resources"]
    target = resources["Tick"]["Properties"]["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"]
    name: str = resources[target[0]]["Properties"]["QueueName"]["Fn::Sub"]
    return name.replace("${Stage}", stage)


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_names_the_stages_own_table_and_secret(stage: str) -> None:
    table_name = template()["Resources"]["ConversationTable"]["Properties"]["TableName"]["Fn::Sub"]
    grants = granted(stage)
    assert grants["dynamodb:GetItem"][0].endswith("table/" + table_name.replace("${Stage}", stage))
    env = template()["Globals"]["Function"]["Environment"]["Variables"]
    secrets = [
        env[name]["Fn::Sub"].replace("${Stage}", stage)
        for name in (
            "TWILIO_AUTH_TOKEN_PARAM",
            "OPERATOR_TOKENS_PARAM",
            "ORDER_WEBHOOK_SECRET_PARAM",
            "ERASURE_SECRET_PARAM",
        )
    ]
    assert sorted(grants["ssm:GetParameter"]) == sorted(f"arn:aws:ssm:*:*:parameter{name}" for name in secrets)
    order_secret, erasure_secret = (f"arn:aws:ssm:*:*:parameter{name}" for name in secrets[2:])
    assert erasure_secret in granted(stage, "api_handler")["ssm:GetParameter"], "imports and erasure hash numbers"
    assert erasure_secret not in granted(stage, "send")["ssm:GetParameter"], "sending never hashes a number"
    assert order_secret in granted(stage, "events")["ssm:GetParameter"], "the events Lambda signs the ordering calls"
    assert order_secret not in granted(stage, "send")["ssm:GetParameter"], "campaign texts never call it"
    assert order_secret not in granted(stage, "api_handler")["ssm:GetParameter"], "the API never calls it"
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


def test_checkov_skips_each_say_why_in_one_line() -> None:
    for name, resource in template()["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
            reason = skip["comment"].strip()
            assert reason and "\n" not in reason, f"{name} skips {skip['id']} without a one-line reason"


def grants_of(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def allows(statement: dict[str, Any], action: str) -> bool:
    return statement["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, a) for a in grants_of(statement))


def test_alarms_can_publish_to_their_topic() -> None:
    """CloudWatch cannot use the AWS-managed key alias/aws/sns: the topic's key must be a
    customer-managed one whose policy lets CloudWatch encrypt for it."""
    resources = packaged("prod")["Resources"]
    key_ref = resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"]
    assert key_ref != "alias/aws/sns"
    key_name = key_ref["Fn::GetAtt"][0] if "Fn::GetAtt" in key_ref else key_ref["Ref"]
    key = resources[key_name]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert any(allows(s, action) for s in cloudwatch), f"CloudWatch may not {action}"
    root = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    assert any(s["Principal"] == root and allows(s, "kms:*") for s in statements), "the account must keep the key"
    assert all(s["Principal"] not in ("*", {"AWS": "*"}) for s in statements)
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


API_GATEWAY_TIMEOUT_S = 29  # API Gateway answers 504 after this, however long the function may run


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_alarms_on_errors_throttles_and_running_out_of_time(stage: str) -> None:
    resources = packaged(stage)["Resources"]
    functions = of_type(resources, "AWS::Serverless::Function")
    assert {"APIHandler", "Tick", "Plan", "Send", "Events"} <= set(functions)
    alarms = [a["Properties"] for a in of_type(resources, "AWS::CloudWatch::Alarm").values()]
    for name, function in functions.items():
        dimensions = [{"Name": "FunctionName", "Value": {"Ref": name}}]
        on_it = {
            a["MetricName"]: a for a in alarms if a.get("Namespace") == "AWS/Lambda" and a["Dimensions"] == dimensions
        }
        assert {"Errors", "Throttles", "Duration"} <= set(on_it), name
        for metric in ("Errors", "Throttles"):
            assert on_it[metric]["Statistic"] == "Sum" and on_it[metric]["Threshold"] == 1, (name, metric)
            assert on_it[metric]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold", (name, metric)
        timeout_s = function["Properties"]["Timeout"]
        if name == "APIHandler":
            timeout_s = min(timeout_s, API_GATEWAY_TIMEOUT_S)
        duration = on_it["Duration"]
        assert duration["Statistic"] == "Maximum" and duration["ComparisonOperator"] == "GreaterThanThreshold"
        assert 0.5 * timeout_s * 1000 <= duration["Threshold"] <= 0.8 * timeout_s * 1000, name


@pytest.mark.parametrize("stage", STAGES)
def test_the_tick_runs_alone_and_its_failures_are_kept_and_alarmed(stage: str) -> None:
    resources = packaged(stage)["Resources"]
    tick = resources["Tick"]["Properties"]
    assert [e["Type"] for e in tick["Events"].values()] == ["Schedule"]  # invoked asynchronously
    assert tick["ReservedConcurrentExecutions"] == 1
    dead_letters = tick["DeadLetterQueue"]
    assert dead_letters["Type"] == "SQS"
    queue = dead_letters["TargetArn"]["Fn::GetAtt"][0]
    assert resources[queue]["Type"] == "AWS::SQS::Queue"
    watched = [
        a["Properties"]
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
        and a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    ]
    assert [a["MetricName"] for a in watched] == ["ApproximateNumberOfMessagesVisible"]
    assert watched[0]["Threshold"] == 1


def test_every_queue_is_encrypted_at_rest() -> None:
    queues = of_type(template()["Resources"], "AWS::SQS::Queue")
    assert len(queues) >= 5
    for name, queue in queues.items():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, name


# What an access log line may say. Not $context.path (the phone number is in it:
# /api/contacts/+447700900123), no query string, headers, bodies or caller identities.
ACCESS_LOG_FIELDS = {
    "$context.requestId",
    "$context.requestTime",
    "$context.identity.sourceIp",
    "$context.httpMethod",
    "$context.resourcePath",  # the route template: /api/contacts/{number}
    "$context.status",
    "$context.protocol",
    "$context.responseLength",
    "$context.responseLatency",
    "$context.integrationLatency",
    "$context.integration.status",
    "$context.error.responseType",
}


@pytest.mark.parametrize("stage", STAGES)
def test_api_access_logs_carry_no_phone_numbers(stage: str) -> None:
    resources = packaged(stage)["Resources"]
    api = resources["RestAPI"]
    assert any("{number}" in path for path in api["Properties"]["DefinitionBody"]["paths"])
    setting = api["Properties"]["AccessLogSetting"]
    fields = json.loads(setting["Format"])
    assert all(isinstance(v, str) and re.fullmatch(r"\$context\.[\w.]+", v) for v in fields.values()), fields
    assert set(fields.values()) <= ACCESS_LOG_FIELDS, set(fields.values()) - ACCESS_LOG_FIELDS
    assert "$context.resourcePath" in fields.values() and "$context.path" not in setting["Format"]
    log_group = resources[setting["DestinationArn"]["Fn::GetAtt"][0]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert 0 < log_group["Properties"]["RetentionInDays"] <= 400
    # encrypted with a key whose policy lets CloudWatch Logs use it for exactly this group
    key = resources[log_group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0]]
    logs = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "logs." in json.dumps(s["Principal"])]
    assert any(allows(s, "kms:GenerateDataKey") and allows(s, "kms:Decrypt") for s in logs)
    name = log_group["Properties"]["LogGroupName"]["Fn::Sub"]
    assert any(arn.endswith(f":log-group:{name}") for arn in encryptable_log_groups(resources))
    # API Gateway writes access logs with the region's account-level role: the stack sets it first
    account = list(of_type(resources, "AWS::ApiGateway::Account"))
    assert account and account[0] in api["DependsOn"]


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_traces_and_may_write_its_traces(stage: str) -> None:
    resources = packaged(stage)["Resources"]
    # Not the API stage: API Gateway's segments record the full URL, /api/contacts/+447700900123 included.
    assert resources["RestAPI"]["Properties"]["TracingEnabled"] is False
    for name, function in of_type(resources, "AWS::Serverless::Function").items():
        assert function["Properties"]["Tracing"] == "Active", name
    for role in policy_files(stage):
        assert granted(stage, role).keys() >= UNSCOPED_ACTIONS, f"{role} cannot write its traces"


def encryptable_log_groups(resources: dict[str, Any]) -> list[str]:
    """The log groups (ARN patterns) the operations key's policy lets CloudWatch Logs encrypt with it."""
    key = resources["OperationsKey"]["Properties"]["KeyPolicy"]["Statement"]
    logs = [s for s in key if "logs." in json.dumps(s["Principal"])]
    return [arn["Fn::Sub"] for s in logs for arn in s["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]]


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_logs_to_a_declared_group_with_a_retention_that_its_policy_may_write(stage: str) -> None:
    resources = packaged(stage)["Resources"]
    encryptable = encryptable_log_groups(resources)
    for name, function in of_type(resources, "AWS::Serverless::Function").items():
        group = resources[function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup", name
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["OperationsKey", "Arn"]}, name
        path = group["Properties"]["LogGroupName"]["Fn::Sub"]
        assert any(fnmatch.fnmatch(f"log-group:{path}", arn[arn.index("log-group:") :]) for arn in encryptable), name
        writable = granted(stage, "api_handler" if name == "APIHandler" else name.lower())["logs:PutLogEvents"]
        concrete = path.replace("${Stage}", stage)
        stream = f"log-group:{concrete}:log-stream:x"
        assert any(fnmatch.fnmatch(stream, arn.split(":", 5)[5]) for arn in writable), name
    assert len(of_type(resources, "AWS::Serverless::Function")) == 5
