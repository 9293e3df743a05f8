"""A node's app as its operator uses it: created with an operator credential, and a client that
sends it (`Authorization: Bearer`), as the CLI does. Tests of what the public may do use a
client without it (`public_client`)."""

from fastapi.testclient import TestClient

from aigora.app import Answers, NodeContext
from aigora.node import create_app

OPERATOR_TOKEN = "operator-token-for-tests-0123456789abcdef0123456789"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def operator_app(context: NodeContext, answering: Answers | None = None):
    return create_app(context, answering, operator_token=OPERATOR_TOKEN)


def operator_client(context: NodeContext, answering: Answers | None = None) -> TestClient:
    """A client of a fresh app over `context` that signs every request as the operator."""
    return TestClient(
        operator_app(context, answering), raise_server_exceptions=False, headers=OPERATOR
    )


def public_client(app) -> TestClient:
    """A client of `app` carrying no credential: anyone on the internet."""
    return TestClient(app, raise_server_exceptions=False)
