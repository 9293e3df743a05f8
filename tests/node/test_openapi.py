"""The OpenAPI document describes every answer a client can get, and no input makes a 500.

Schemathesis generates requests from `/openapi.json` for every route (valid and malformed:
wrong types, out-of-range numbers, odd strings, missing and extra fields) and checks each
answer: never a server error, and every body (errors included) matches the schema the route
declares.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from aigora.app import open_node
from tests.node.conftest import PASSPHRASE, make_data_dir
from tests.operator import OPERATOR, operator_app


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator:
    context = open_node(make_data_dir(tmp_path_factory.mktemp("fuzz") / "node"), PASSPHRASE)
    app = operator_app(context)
    try:
        yield app
    finally:
        context.close()


@pytest.fixture(scope="module")
def api(served):
    return schemathesis.openapi.from_asgi("/openapi.json", served)


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_makes_a_server_error(case):
    """As the operator, so operator-only routes are reached too (and no rate limit applies)."""
    response = case.call(headers=OPERATOR)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


def test_every_json_route_declares_its_response_model(served):
    with TestClient(served) as client:
        spec = client.get("/openapi.json").json()
    undeclared = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            ok = operation["responses"].get("200") or operation["responses"].get("201")
            content = (ok or {}).get("content", {})
            json_schema = content.get("application/json", {}).get("schema")
            if ("application/json" in content and not json_schema) or json_schema == {}:
                undeclared.append(f"{method.upper()} {path}")
            assert "4XX" in operation["responses"], f"{method} {path} documents no 4xx"
    assert undeclared == []
    assert "Error" in spec["components"]["schemas"]
