"""The operator's console is locked: every route that spends the operator's gas or signs with its
key answers 401 without the operator's credential and 403 with a wrong one, over the JSON API
(walked from the OpenAPI document) and the console pages (cookie sign-in, CSRF on every form);
every other route is open to the public. The credential is made at the first start and kept."""

import os
import re
import stat
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from aigora.app import OPERATOR_TOKEN_FILE, ensure_operator_token, open_node
from aigora.node import create_app
from aigora.node.deps import OPERATOR_COOKIE, csrf_value, session_value
from tests.node.conftest import PASSPHRASE, make_data_dir
from tests.operator import OPERATOR, OPERATOR_TOKEN

OPERATOR_ONLY = {
    ("post", "/anchor"),
    ("post", "/snapshots"),
    ("post", "/epochs"),
    ("post", "/challenges"),
    ("post", "/disputes/{dispute_id}/resolve"),
    ("post", "/disputes/{dispute_id}/collect"),
    ("post", "/network/sync"),
    ("post", "/asks/deposits/{asker}"),
}
"""What spends the operator's gas or signs with its key (or, for sync, its machine's time), or
its tokens (a gift into an asker's channel)."""

CONSOLE_FORMS = (
    "/ui/operator/anchor",
    "/ui/operator/snapshot",
    "/ui/operator/epoch",
    "/ui/operator/sync",
    "/ui/operator/sign-out",
    "/ui/publish",
    "/ui/content/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy/attest",
)

PARAMETER_VALUES = {
    "root": "0x" + "11" * 32,
    "job_id": "0x" + "22" * 32,
    "account": "0x" + "33" * 20,
    "asker": "0x" + "33" * 20,
    "labeler": "0x" + "33" * 20,
    "digest": "0x" + "44" * 32,
    "cid": "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
    "url_hash": "0x" + "55" * 32,
}


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[SimpleNamespace]:
    directory = make_data_dir(tmp_path_factory.mktemp("locked") / "node")
    context = open_node(directory, PASSPHRASE)
    app = create_app(context, operator_token=OPERATOR_TOKEN)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield SimpleNamespace(context=context, app=app, client=client)
    finally:
        context.close()


def _operations(app) -> list[tuple[str, str, dict]]:
    spec = app.openapi()
    return [
        (method, path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def _url(path: str) -> str:
    def value(match: re.Match) -> str:
        return PARAMETER_VALUES.get(match.group(1), "1")

    return re.sub(r"\{([a-z_]+)\}", value, path)


def test_the_openapi_document_marks_exactly_the_operator_actions(node):
    marked = {
        (method, path)
        for method, path, operation in _operations(node.app)
        if operation.get("security") == [{"operator": []}]
    }
    assert marked == OPERATOR_ONLY
    schemes = node.app.openapi()["components"]["securitySchemes"]
    assert schemes["operator"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["operator"]["description"],
    }


def test_every_route_without_the_credential(node):
    """Walk every route: operator-only ones refuse (401, with `WWW-Authenticate`), a wrong
    credential is 403, and every public one answers something other than 401/403 and no 5xx."""
    client = node.client
    client.cookies.clear()
    public = []
    for method, path, _ in _operations(node.app):
        url = _url(path)
        anonymous = client.request(method, url, json={})
        if (method, path) in OPERATOR_ONLY:
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            assert anonymous.json()["error"] == "OperatorRequired"
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
            wrong = client.request(
                method, url, json={}, headers={"Authorization": "Bearer " + "x" * 43}
            )
            assert wrong.status_code == 403, (method, path, wrong.text)
            cookie_forged = client.request(
                method, url, json={}, headers={"cookie": f"{OPERATOR_COOKIE}={OPERATOR_TOKEN}"}
            )
            assert cookie_forged.status_code == 403, "the cookie is derived, not the token"
        else:
            public.append((method, path))
            assert anonymous.status_code not in (401, 403), (method, path, anonymous.text)
            assert anonymous.status_code < 500, (method, path, anonymous.text)
    assert ("post", "/content") in public
    assert ("post", "/ask") in public
    assert ("post", "/claims/{account}") in public


def test_the_operator_is_let_through(node):
    answer = node.client.post("/anchor", headers=OPERATOR)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) >= {"batches"}


def test_console_pages_need_a_signed_in_operator_and_its_csrf_value(node):
    client = node.client
    client.cookies.clear()
    page = client.get("/ui/operator")
    assert "Sign in" in page.text
    assert "Anchor pending" not in page.text
    assert 'action="/ui/publish"' not in client.get("/ui/publish").text
    for form in CONSOLE_FORMS:
        assert client.post(form, data={"text": "x"}).status_code == 401, form

    wrong = client.post("/ui/operator", data={"token": "guess"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert OPERATOR_COOKIE not in wrong.cookies

    signed = client.post("/ui/operator", data={"token": OPERATOR_TOKEN}, follow_redirects=False)
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert OPERATOR_TOKEN not in cookie
    client.cookies.set(OPERATOR_COOKIE, session_value(OPERATOR_TOKEN))
    console = client.get("/ui/operator").text
    csrf = csrf_value(OPERATOR_TOKEN)
    assert "Anchor pending batches now" in console
    assert f'value="{csrf}"' in console

    # A cross-site form reaching the node with the cookie still lacks the CSRF value.
    for form in CONSOLE_FORMS:
        assert client.post(form, data={"text": "x"}).status_code == 403, form
        forged = client.post(form, data={"text": "x", "csrf": "0" * 64})
        assert forged.status_code == 403, form
    # The same goes for the JSON API reached with the cookie alone.
    assert client.post("/anchor").status_code == 403
    assert client.post("/anchor", headers={"X-CSRF-Token": csrf}).status_code == 200

    done = client.post("/ui/operator/anchor", data={"csrf": csrf})
    assert done.status_code == 200
    assert "Anchor pending batches now</strong>: done" in done.text
    out = client.post("/ui/operator/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert 'aigora_operator=""' in out.headers["set-cookie"]
    client.cookies.clear()


def test_the_credential_is_made_once_and_kept_owner_only(tmp_path):
    first = ensure_operator_token(tmp_path)
    path = tmp_path / OPERATOR_TOKEN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 43
    assert ensure_operator_token(tmp_path) == first, "kept across restarts"
    os.chmod(path, 0o644)
    assert ensure_operator_token(tmp_path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "narrowed back to the owner"
    path.write_text("short")
    rotated = ensure_operator_token(tmp_path)
    assert rotated != first
    assert len(rotated) >= 43
