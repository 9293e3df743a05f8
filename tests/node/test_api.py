"""The node's HTTP API: health, chain status, OpenAPI docs, and errors as 4xx messages."""

import sqlite3

from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from aigora.core.errors import AigoraError, NotFound
from aigora.node.app import create_app


def test_health(client, context):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["chain_id"] == context.chain.chain_id
    assert body["operator"] == context.operator.address
    assert body["block_number"] == context.chain.block_number()


def test_chain_status_shows_contracts_and_bonded_operator(client, context):
    response = client.get("/chain/status")
    assert response.status_code == 200
    body = response.json()
    assert body["contracts"] == context.deployment.addresses()
    operator = body["operator"]
    assert operator["address"] == context.operator.address
    assert operator["registered"]
    assert operator["active"]
    assert int(operator["bond"]) == context.config.chain.min_bond
    assert int(operator["ether_wei"]) > 0


def test_openapi_docs_are_served(client):
    spec = client.get("/openapi.json").json()
    assert {"/health", "/chain/status"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_errors_become_messages_not_tracebacks(context):
    app = create_app(context)

    @app.get("/boom/{kind}")
    def boom(kind: str) -> None:
        if kind == "missing":
            raise NotFound("no such thing")
        if kind == "user":
            raise AigoraError("bad input, fix it")
        if kind == "busy":
            raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
        if kind == "schema":
            raise OperationalError("SELECT ...", {}, sqlite3.OperationalError("no such table: x"))
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        missing = client.get("/boom/missing")
        assert missing.status_code == 404
        assert missing.json() == {"error": "NotFound", "detail": "no such thing"}
        user = client.get("/boom/user")
        assert user.status_code == 400
        assert user.json()["detail"] == "bad input, fix it"
        busy = client.get("/boom/busy")
        assert busy.status_code == 503
        assert busy.json()["error"] == "Busy"
        assert busy.headers["retry-after"] == "1"
        assert client.get("/boom/schema").status_code == 500
        internal = client.get("/boom/bug")
        assert internal.status_code == 500
        assert "secret internals" not in internal.text
        assert "Traceback" not in internal.text
    assert client.get("/nope").status_code == 404
