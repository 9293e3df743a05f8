"""The node's web pages: ask and verify, content with its reputation, publish and attest,
earnings with a claim button, and the network. Server-rendered templates and plain HTML forms:
no build step, no script needed, every action reachable by keyboard. The pages call the same
services as the JSON API; a refused action is shown as a readable message with its 4xx status.
"""

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from aigora.content import service
from aigora.content.signed import content_message, sign
from aigora.core.errors import AigoraError, NotFound
from aigora.node.charts import bar_chart, line_chart
from aigora.node.disputes import dispute_state
from aigora.node.errors import status_for
from aigora.node.routers.answers import answer_json
from aigora.node.routers.content import show as show_content
from aigora.node.status import chain_status
from aigora.payouts import check_account
from aigora.payouts import earnings as earnings_of
from aigora.store.content_models import ContentScoreRecord
from aigora.store.db import session_scope
from aigora.store.models import Anchor
from aigora.verify import stored_receipt

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parents[1] / "templates")
MAX_FORM_BYTES = 1024 * 1024


def _page(
    request: Request, name: str, title: str, active: str = "", status: int = 200, **values: Any
) -> HTMLResponse:
    context = {"title": title, "active": active, **values}
    return templates.TemplateResponse(request, name, context, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise AigoraError(f"a form is at most {MAX_FORM_BYTES} bytes")
    fields = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def _failed(request: Request, name: str, title: str, exc: AigoraError, **values: Any):
    return _page(request, name, title, status=status_for(exc), error=str(exc), **values)


def _ctx(request: Request) -> Any:
    return request.app.state.context


# ---- ask and verify ----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def ask_page(request: Request) -> HTMLResponse:
    return _page(request, "ask.html", "Ask", "Ask")


@router.post("/ui/ask", response_class=HTMLResponse)
async def ask(request: Request) -> HTMLResponse:
    form = await _form(request)
    query = form.get("query", "")
    try:
        k = int(form.get("k") or 5)
        document = request.app.state.answers.ask(query, k)
        answer = answer_json(_ctx(request), document)
        with session_scope(_ctx(request).db) as session:
            for result in answer["results"]:
                score = service.latest_score(session, result["cid"])
                result["status"] = "unrated" if score is None else score["status"]
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
        return _failed(request, "ask.html", "Ask", exc, active="Ask", query=query, k=form.get("k"))
    return _page(request, "ask.html", "Ask", "Ask", answer=answer, query=query, k=k)


@router.get("/ui/receipts/{digest}", response_class=HTMLResponse)
def receipt(request: Request, digest: str) -> HTMLResponse:
    try:
        document = stored_receipt(_ctx(request).db, digest)
    except AigoraError as exc:
        return _failed(request, "ask.html", "Receipt", exc)
    return _page(request, "receipt.html", "Receipt", digest=digest, document=document)


@router.post("/ui/receipts/{digest}/verify", response_class=HTMLResponse)
def verify(request: Request, digest: str) -> HTMLResponse:
    """Re-execute the receipt on this node: VALID, or the first difference."""
    try:
        document = stored_receipt(_ctx(request).db, digest)
        verdict = request.app.state.answers.verify(document).to_json()
    except AigoraError as exc:
        return _failed(request, "ask.html", "Receipt", exc)
    return _page(
        request, "receipt.html", "Receipt", digest=digest, document=document, verdict=verdict
    )


# ---- content, publish, attest ------------------------------------------------------------------


def _history(request: Request, cid: str) -> list[dict[str, Any]]:
    with session_scope(_ctx(request).db) as session:
        rows = session.scalars(
            select(ContentScoreRecord)
            .where(ContentScoreRecord.cid == cid)
            .order_by(ContentScoreRecord.run_id)
        ).all()
        return [
            {"run": r.run_id, "score": r.score, "n_ratings": r.n_ratings, "status": r.status}
            for r in rows
        ]


@router.get("/ui/content/{cid}", response_class=HTMLResponse)
def content(request: Request, cid: str) -> HTMLResponse:
    context = _ctx(request)
    try:
        item = show_content(cid, context)
    except AigoraError as exc:
        return _failed(request, "ask.html", "Content", exc)
    text = context.blobs.get(cid)[:5000].decode("utf-8", errors="replace")
    history = _history(request, cid)
    chart = line_chart(
        [(f"run {h['run']}", h["score"]) for h in history],
        "reputation score by run",
        min([-1.0, *(h["score"] for h in history)]),
        max([1.0, *(h["score"] for h in history)]),
    )
    return _page(
        request, "content.html", "Content", item=item, text=text, history=history, chart=chart
    )


@router.post("/ui/content/{cid}/attest", response_model=None)
async def attest(request: Request, cid: str) -> Response:
    form = await _form(request)
    context = _ctx(request)
    message = {
        "attester": context.operator.address,
        "cid": cid,
        "verdict": form.get("verdict", ""),
        "reason": form.get("reason", ""),
        "createdAt": int(time.time()),
    }
    try:
        signed = sign("attestation", context.operator, context.domain, message)
        with session_scope(context.db) as session:
            service.attest(session, context.domain, signed, int(time.time()))
    except AigoraError as exc:
        return _failed(request, "ask.html", "Content", exc)
    return RedirectResponse(f"/ui/content/{cid}", status_code=303)


@router.get("/ui/publish", response_class=HTMLResponse)
def publish_page(request: Request) -> HTMLResponse:
    return _page(
        request, "publish.html", "Publish", "Publish", operator=_ctx(request).operator.address
    )


@router.post("/ui/publish", response_model=None)
async def publish(request: Request) -> Response:
    form = await _form(request)
    context = _ctx(request)
    text, license_ = form.get("text", ""), form.get("license", "")
    try:
        if not text.strip():
            raise AigoraError("write something to publish")
        body, now = text.encode("utf-8"), int(time.time())
        message = content_message(context.operator.address, body, "text/plain", license_, now)
        signed = sign("content", context.operator, context.domain, message)
        with session_scope(context.db) as session:
            done = service.publish(session, context.blobs, context.domain, signed, body, now)
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


# ---- earnings ----------------------------------------------------------------------------------


def _account(value: str) -> str:
    """The account a form names, checked; empty when none was given yet."""
    value = value.strip()
    return check_account(value) if value else ""


def _earnings_values(request: Request, account: str) -> dict[str, Any]:
    lines = earnings_of(_ctx(request).db, account) if account else []
    per_epoch: dict[int, int] = {}
    for epoch, _, _, amount, _ in lines:
        per_epoch[epoch] = per_epoch.get(epoch, 0) + amount
    chart = bar_chart([(f"epoch {e}", v) for e, v in sorted(per_epoch.items())], "earned per epoch")
    return {
        "account": account,
        "lines": lines,
        "total": sum(amount for *_, amount, _ in lines),
        "chart": chart,
    }


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
        result = request.app.state.payouts.claim(check_account(account))
    except AigoraError as exc:
        values = _earnings_values(request, account) if account.startswith("0x") else {}
        return _failed(request, "earnings.html", "Earnings", exc, active="Earnings", **values)
    values = _earnings_values(request, account)
    return _page(request, "earnings.html", "Earnings", "Earnings", claimed=result, **values)


# ---- network -----------------------------------------------------------------------------------


@router.get("/ui/network", response_class=HTMLResponse)
def network(request: Request) -> HTMLResponse:
    context = _ctx(request)
    chain, deployment = context.chain, context.deployment
    registry = deployment.registry
    operators = []
    seen = set()
    for log in chain.events(registry.events.OperatorRegistered):
        address = str(log.args.operator)
        if address in seen:
            continue
        seen.add(address)
        bond, _, _, _, endpoint, slashed = chain.call(registry.functions.operators(address))
        operators.append(
            {"address": address, "bond": int(bond), "endpoint": endpoint, "slashed": slashed}
        )
    with session_scope(context.db) as session:
        anchors = [
            {
                "batch_id": a.batch_id,
                "kind": a.kind,
                "item_count": a.item_count,
                "root": a.root,
                "block_number": a.block_number,
            }
            for a in session.scalars(select(Anchor).order_by(Anchor.id.desc()).limit(50))
        ]
    disputes = []
    if deployment.disputes is not None:
        for log in chain.events(deployment.disputes.events.DisputeOpened):
            try:
                disputes.append(dispute_state(chain, deployment.disputes, int(log.args.dispute_id)))
            except NotFound:
                continue
    chain_info = chain_status(chain, deployment, context.operator.address)
    return _page(
        request,
        "network.html",
        "Network",
        "Network",
        chain_info=chain_info,
        operators=operators,
        anchors=anchors,
        disputes=disputes,
    )
