"""The node's web pages: ask and verify, content with its reputation, publish, attest and
vouch, label, earnings with a claim button, and the network. Server-rendered templates: no build
step. Reading, asking and verifying are plain HTML forms that need no script; everything a
visitor signs (publishing, attesting, vouching, labeling answers, a relayer's fee, a paid ask's
voucher) is signed in the visitor's browser by `static/sign.js` and sent signed to the JSON API:
the node never signs for a visitor. The forms that sign with the node's own key serve the
signed-in operator alone. A refused action is shown as a readable message with its 4xx status.
"""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from aigora.app import App, PaymentRequired, registered_operators
from aigora.content import VERDICTS
from aigora.core.errors import AigoraError
from aigora.governance import describe_policy, plain_time, policy_from_data, share
from aigora.index import document_text
from aigora.node.charts import bar_chart, line_chart
from aigora.node.deps import (
    CSRF_FIELD,
    OPERATOR_COOKIE,
    NotOperator,
    by_operator,
    check_operator,
    credential_matches,
    csrf_value,
    session_value,
)
from aigora.node.errors import status_for
from aigora.payouts import check_account

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parents[1] / "templates")
MAX_FORM_BYTES = 1024 * 1024


def _page(
    request: Request, name: str, title: str, active: str = "", status: int = 200, **values: Any
) -> HTMLResponse:
    """A page; the operator's console controls (and their CSRF value) only for the operator."""
    signed_in = by_operator(request)
    token = request.app.state.operator_token
    context = {
        "title": title,
        "active": active,
        "operator_signed_in": signed_in,
        "csrf": csrf_value(token) if signed_in and token else "",
        **values,
    }
    return templates.TemplateResponse(request, name, context, status_code=status)


def _operator_form(request: Request, form: dict[str, str]) -> None:
    """Only the signed-in operator, with the form's CSRF value, may act through a console form
    (401 signed out, 403 with a wrong session or no CSRF value)."""
    check_operator(request, csrf=form.get(CSRF_FIELD, ""))


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise AigoraError(f"a form is at most {MAX_FORM_BYTES} bytes")
    fields = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def _failed(request: Request, name: str, title: str, exc: AigoraError, **values: Any):
    return _page(request, name, title, status=status_for(exc), error=str(exc), **values)


def _services(request: Request) -> App:
    return request.app.state.services


# ---- ask and verify ----------------------------------------------------------------------------


def _paid(request: Request) -> bool:
    """Whether this node charges for answers (the ask page then signs a voucher per answer)."""
    return int(_services(request).context.config.answers.fee) > 0


@router.get("/", response_class=HTMLResponse)
def ask_page(request: Request) -> HTMLResponse:
    return _page(request, "ask.html", "Ask", "Ask", paid=_paid(request))


@router.post("/ui/ask", response_class=HTMLResponse)
async def ask(request: Request) -> HTMLResponse:
    form = await _form(request)
    query = form.get("query", "")
    try:
        k = int(form.get("k") or 5)
        answers = _services(request).answers
        answer = answers.answer(query, k, by_operator=by_operator(request)).model_dump()
    except ValueError:
        return _failed(
            request,
            "ask.html",
            "Ask",
            AigoraError("k must be a whole number"),
            active="Ask",
            query=query,
        )
    except AigoraError as exc:
        return _failed(
            request,
            "ask.html",
            "Ask",
            exc,
            active="Ask",
            query=query,
            k=form.get("k"),
            sign_in=isinstance(exc, PaymentRequired),
        )
    return _page(request, "ask.html", "Ask", "Ask", answer=answer, query=query, k=k)


@router.get("/ui/operator", response_class=HTMLResponse)
def operator_page(request: Request) -> HTMLResponse:
    return _page(request, "operator.html", "Operator")


@router.post("/ui/operator", response_class=HTMLResponse)
async def operator_sign_in(request: Request) -> Response:
    """Sign the browser in as the operator with the credential in the data directory's
    `node.token`: the cookie is a value derived from it (not the token), sent to this node
    alone (SameSite=Strict), unreadable by scripts, gone when the browser closes."""
    form = await _form(request)
    token = request.app.state.operator_token
    if not credential_matches(form.get("token", ""), token):
        return _failed(
            request,
            "operator.html",
            "Operator",
            NotOperator("that is not this node's operator token (node.token in its data dir)"),
        )
    response = RedirectResponse("/ui/operator", status_code=303)
    response.set_cookie(OPERATOR_COOKIE, session_value(token), httponly=True, samesite="strict")
    return response


@router.post("/ui/operator/sign-out", response_model=None)
async def operator_sign_out(request: Request) -> Response:
    _operator_form(request, await _form(request))
    response = RedirectResponse("/ui/operator", status_code=303)
    response.delete_cookie(OPERATOR_COOKIE, httponly=True, samesite="strict")
    return response


CONSOLE_ACTIONS: dict[str, tuple[str, Callable[[App], Callable[[], Any]]]] = {
    "anchor": ("Anchor pending batches now", lambda s: s.content.anchor),
    "snapshot": ("Snapshot newly admitted content now", lambda s: s.snapshots.refresh),
    "epoch": ("Close the next payout epoch", lambda s: s.payouts.close),
    "sync": ("Import what peers anchored", lambda s: s.network.sync),
}
"""The console's buttons, by the name in their URL: the label the page shows, and the use case
each runs. The console template lists these."""
templates.env.globals["console_actions"] = {
    name: label for name, (label, _) in CONSOLE_ACTIONS.items()
}


@router.post("/ui/operator/{action}", response_class=HTMLResponse)
async def operator_action(request: Request, action: str) -> HTMLResponse:
    """Run one console action for the signed-in operator; the result, or why it failed."""
    form = await _form(request)
    _operator_form(request, form)
    if action not in CONSOLE_ACTIONS:
        return _failed(
            request, "operator.html", "Operator", AigoraError(f"no console action {action!r}")
        )
    label, use_case = CONSOLE_ACTIONS[action]
    try:
        result = await asyncio.to_thread(use_case(_services(request)))
    except AigoraError as exc:
        return _failed(request, "operator.html", "Operator", exc)
    done = result.model_dump() if hasattr(result, "model_dump") else result
    return _page(request, "operator.html", "Operator", done=label, result=done)


@router.get("/ui/receipts/{digest}", response_class=HTMLResponse)
def receipt(request: Request, digest: str) -> HTMLResponse:
    try:
        document = _services(request).answers.receipt(digest)
    except AigoraError as exc:
        return _failed(request, "ask.html", "Receipt", exc)
    return _page(request, "receipt.html", "Receipt", digest=digest, document=document)


@router.post("/ui/receipts/{digest}/verify", response_class=HTMLResponse)
def verify(request: Request, digest: str) -> HTMLResponse:
    """Re-execute the receipt on this node: VALID, or the first difference."""
    try:
        answers = _services(request).answers
        document = answers.receipt(digest)
        verdict = answers.verify(document).to_json()
    except AigoraError as exc:
        return _failed(request, "ask.html", "Receipt", exc)
    return _page(
        request, "receipt.html", "Receipt", digest=digest, document=document, verdict=verdict
    )


# ---- content, publish, attest ------------------------------------------------------------------


DOCUMENT_CHARS = 400_000
"""The most of a document's text its page shows (about 200 pages)."""


def marked_text(text: str, start: int, end: int) -> tuple[str, str, str] | None:
    """The text before, inside and after the span [start, end), when it is one in `text`."""
    if not 0 <= start < end <= len(text):
        return None
    return text[:start], text[start:end], text[end:]


@router.get("/ui/content/{cid}", response_class=HTMLResponse)
def content(
    request: Request,
    cid: str,
    passage: int | None = None,
    start: int | None = None,
    end: int | None = None,
) -> HTMLResponse:
    """A document's page: its whole text (for a passage linked from an answer, the passage
    marked and scrolled to), provenance, reputation and attestations."""
    content_service = _services(request).content
    try:
        item = content_service.show(cid).model_dump()
        body, media_type = content_service.body(cid)
    except AigoraError as exc:
        return _failed(request, "ask.html", "Content", exc)
    text = (document_text(body, media_type) or body.decode("utf-8", errors="replace"))[
        :DOCUMENT_CHARS
    ]
    marked = None if start is None or end is None else marked_text(text, start, end)
    history = [point.model_dump() for point in content_service.score_history(cid)]
    chart = line_chart(
        [(f"run {h['run']}", h["score"]) for h in history],
        "reputation score by run",
        min([-1.0, *(h["score"] for h in history)]),
        max([1.0, *(h["score"] for h in history)]),
    )
    return _page(
        request,
        "content.html",
        "Content",
        item=item,
        text=text,
        marked=marked,
        passage=passage,
        history=history,
        chart=chart,
        verdicts=VERDICTS,
    )


@router.post("/ui/content/{cid}/attest", response_model=None)
async def attest(request: Request, cid: str) -> Response:
    """Attest with the operator's key: the operator's console only."""
    form = await _form(request)
    _operator_form(request, form)
    services = _services(request)
    try:
        services.content.attest_as(
            services.context.operator, cid, form.get("verdict", ""), form.get("reason", "")
        )
    except AigoraError as exc:
        return _failed(request, "ask.html", "Content", exc)
    return RedirectResponse(f"/ui/content/{cid}", status_code=303)


@router.get("/ui/publish", response_class=HTMLResponse)
def publish_page(request: Request) -> HTMLResponse:
    return _page(
        request,
        "publish.html",
        "Publish",
        "Publish",
        operator=_services(request).context.operator.address,
    )


@router.post("/ui/publish", response_model=None)
async def publish(request: Request) -> Response:
    """Publish with the operator's key: the operator's console only."""
    form = await _form(request)
    _operator_form(request, form)
    services = _services(request)
    context = services.context
    text, license_ = form.get("text", ""), form.get("license", "")
    try:
        if not text.strip():
            raise AigoraError("write something to publish")
        done = services.content.publish_as(
            context.operator, text.encode("utf-8"), media_type="text/plain", license=license_
        )
    except AigoraError as exc:
        return _failed(
            request,
            "publish.html",
            "Publish",
            exc,
            active="Publish",
            text=text,
            license=license_,
            operator=context.operator.address,
        )
    return RedirectResponse(f"/ui/content/{done.id}", status_code=303)


# ---- labeling ----------------------------------------------------------------------------------


@router.get("/ui/labels", response_class=HTMLResponse)
def labels(request: Request) -> HTMLResponse:
    """Take and answer labeling tasks, each answer signed in the browser (needs script)."""
    return _page(request, "labels.html", "Label", "Label")


# ---- earnings ----------------------------------------------------------------------------------


def _account(value: str) -> str:
    """The account a form names, checked; empty when none was given yet."""
    value = value.strip()
    return check_account(value) if value else ""


def _earnings_values(request: Request, account: str) -> dict[str, Any]:
    if not account:
        return {"account": "", "lines": [], "total": 0, "chart": bar_chart([], "earned per epoch")}
    earned = _services(request).payouts.earnings(account)
    per_epoch = earned.per_epoch()
    chart = bar_chart([(f"epoch {e}", v) for e, v in sorted(per_epoch.items())], "earned per epoch")
    lines = [(ln.epoch, ln.source, ln.cid, int(ln.amount), ln.status) for ln in earned.lines]
    return {"account": account, "lines": lines, "total": int(earned.total), "chart": chart}


@router.get("/ui/earnings", response_class=HTMLResponse)
def earnings(request: Request, account: str = "") -> HTMLResponse:
    try:
        values = _earnings_values(request, _account(account))
    except AigoraError as exc:
        return _failed(request, "earnings.html", "Earnings", exc, active="Earnings")
    return _page(request, "earnings.html", "Earnings", "Earnings", **values)


@router.post("/ui/earnings/claim", response_class=HTMLResponse)
async def claim(request: Request) -> HTMLResponse:
    account = (await _form(request)).get("account", "").strip()
    try:
        result = _services(request).payouts.claim_result(check_account(account))
    except AigoraError as exc:
        values = _earnings_values(request, account) if account.startswith("0x") else {}
        return _failed(request, "earnings.html", "Earnings", exc, active="Earnings", **values)
    values = _earnings_values(request, account)
    return _page(request, "earnings.html", "Earnings", "Earnings", claimed=result, **values)


# ---- policy ------------------------------------------------------------------------------------

OPEN_STATES = ("active",)


def _proposal_view(proposal: Any, now: int) -> dict[str, Any]:
    total = int(proposal.standing_total)
    counted = {
        name: int(getattr(proposal, f"{name}_power")) for name in ("for", "against", "abstain")
    }
    return {
        "info": proposal,
        "tallies": [
            (name, share(power, total), power * 100 // max(total, 1))
            for name, power in counted.items()
        ],
        "quorum": share(int(proposal.quorum), total),
        "quorum_reached": counted["for"] + counted["abstain"] >= int(proposal.quorum),
        "vote_end": plain_time(proposal.vote_end, now),
        "eta": plain_time(proposal.eta, now),
    }


def _policy_values(request: Request) -> dict[str, Any]:
    state = _services(request).governance.state()
    policy = policy_from_data(state.in_force.policy)
    proposals = [_proposal_view(p, state.now) for p in state.proposals]
    return {
        "state": state,
        "rows": describe_policy(policy),
        "removed": policy.admission.removed,
        "since": plain_time(state.in_force.timestamp, state.now),
        "open": [p for p in proposals if p["info"].state in OPEN_STATES],
        "past": [p for p in proposals if p["info"].state not in OPEN_STATES],
    }


@router.get("/ui/policy", response_class=HTMLResponse)
def policy_page(request: Request) -> HTMLResponse:
    """The policy in force in plain words and every proposal; ballots are signed in the
    browser and relayed by the node."""
    try:
        values = _policy_values(request)
    except AigoraError as exc:
        return _failed(request, "policy.html", "Policy", exc, active="Policy")
    return _page(request, "policy.html", "Policy", "Policy", **values)


@router.post("/ui/policy/{proposal_id}/execute", response_class=HTMLResponse)
async def execute_proposal(request: Request, proposal_id: int) -> Response:
    """Enact a proposal that is ready (anyone may: the contract decides)."""
    failure: AigoraError | None = None
    try:
        done = await asyncio.to_thread(_services(request).governance.execute, proposal_id)
    except AigoraError as exc:
        done, failure = None, exc
    try:
        values = _policy_values(request)
    except AigoraError as exc:
        return _failed(request, "policy.html", "Policy", failure or exc, active="Policy")
    if failure is not None:
        return _failed(request, "policy.html", "Policy", failure, active="Policy", **values)
    return _page(request, "policy.html", "Policy", "Policy", executed=done, **values)


# ---- network -----------------------------------------------------------------------------------


@router.get("/ui/network", response_class=HTMLResponse)
def network(request: Request) -> HTMLResponse:
    services = _services(request)
    return _page(
        request,
        "network.html",
        "Network",
        "Network",
        chain_info=services.chain_status(),
        operators=[
            o.model_dump()
            for o in registered_operators(services.context.chain, services.context.deployment)
        ],
        anchors=[a.model_dump() for a in services.content.anchors(50).anchors],
        disputes=services.disputes.all(),
        following=services.network.state() if services.context.network else None,
    )
