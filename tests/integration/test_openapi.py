"""GET /api/openapi.json against the routes that exist: every /api/ route documented
with its methods and path parameters, nothing documented that does not exist, the
document valid OpenAPI 3.1, and the query bounds it states the ones the routes keep."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from chalice.test import Client
from openapi_spec_validator import validate

from app import app
from chalicelib.entrypoints import openapi
from tests.integration.test_operator_api import AUTH

PATH = "/api/openapi.json"


@pytest.fixture
def doc(client: Client) -> dict[str, Any]:
    response = client.http.get(PATH, headers=AUTH)
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "application/json"
    document: dict[str, Any] = json.loads(response.body)
    return document


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, methods in document["paths"].items() for method in methods}


def routes_that_exist() -> set[tuple[str, str]]:
    return {
        (path, method.lower())
        for path, methods in app.routes.items()
        for method in methods
        if path.startswith("/api/") or path == "/health"
    }


def test_it_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises on the first error: openapi-spec-validator picks 3.1 from the document


def test_every_api_route_is_documented_with_its_methods_and_nothing_else(doc: dict[str, Any]) -> None:
    assert operations(doc) == routes_that_exist()
    assert not any(path.startswith("/twilio/") for path in doc["paths"])  # Twilio's signed forms: docs/api.md


def test_path_parameters_are_those_in_the_path(doc: dict[str, Any]) -> None:
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            named = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert named == set(re.findall(r"{(\w+)}", path)), (method, path)


def test_every_route_declares_its_body_and_answer() -> None:
    undeclared = {
        (path, method.lower())
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if (path.startswith("/api/") or path == "/health") and openapi.declared(entry.view_function) is None
    }
    assert undeclared == {("/health", "get")}, "add @openapi.documented(...) under @bp.route"


def test_errors_and_security_are_described(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "an API key",
    }
    assert doc["security"] == [{"bearer": []}]
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"Code", "Message"}
    for path, methods in doc["paths"].items():
        for operation in methods.values():
            for status in ("4XX", "5XX"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}
            assert any(status.startswith("2") for status in operation["responses"])
            assert (operation.get("security") == []) == (path == "/health")


def test_bodies_come_from_the_models(doc: dict[str, Any]) -> None:
    reply = doc["paths"]["/api/conversations/{number}/reply"]["post"]
    assert reply["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ReplyIn"}
    assert doc["components"]["schemas"]["ReplyIn"]["properties"]["body"]["maxLength"] == 1600
    assert "Idempotency-Key" in {p["name"] for p in reply["parameters"] if p["in"] == "header"}
    assert "201" in reply["responses"]
    campaign = doc["paths"]["/api/campaigns"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert campaign == {"$ref": "#/components/schemas/CampaignSpec"}


def test_the_documented_query_bounds_are_the_ones_the_routes_keep(client: Client, doc: dict[str, Any]) -> None:
    checked = 0
    for path, methods in doc["paths"].items():
        operation = methods.get("get", {})
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            if parameter["in"] != "query" or schema["type"] != "integer":
                continue
            url = path.replace("{number}", "%2B447700900123")
            for value, ok in (
                (schema["maximum"], True),
                (schema["maximum"] + 1, False),
                (schema["minimum"] - 1, False),
            ):
                response = client.http.get(f"{url}?{parameter['name']}={value}", headers=AUTH)
                assert (response.status_code != 400) == ok, (path, parameter["name"], value, response.body)
            checked += 1
    assert checked >= 2  # the inbox's and the timeline's limit


def test_it_needs_a_key_and_is_built_once(client: Client) -> None:
    assert client.http.get(PATH).status_code == 401
    assert openapi.document(app) is openapi.document(app)
