"""Publish, attest and vouch; show content with provenance, attestations and score."""

import base64
import binascii
import time
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from aigora.content import service
from aigora.content.anchoring import inclusion_proof, inclusion_proofs
from aigora.content.badge import badge_svg
from aigora.content.signed import (
    ATTESTATION_TYPES,
    CONTENT_TYPES,
    TRUST_TYPES,
    InvalidSignedObject,
    Signed,
)
from aigora.core.errors import AigoraError
from aigora.node.deps import Context
from aigora.store.db import session_scope
from aigora.store.models import AnchorKind

router = APIRouter(tags=["content"])
MAX_BODY_BYTES = 10 * 1024 * 1024


class PayloadTooLarge(AigoraError):
    """The body exceeds what one publication may carry."""


class _Camel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class Manifest(_Camel):
    author: str
    cid: str
    media_type: str = Field(alias="mediaType")
    license: str
    url: str = ""
    parents: list[str] = []
    created_at: int = Field(alias="createdAt")


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    manifest: Manifest
    signature: str = Field(description="0x-hex 65-byte EIP-712 signature by the author")
    body_base64: str = Field(description="the content's bytes, base64")


class AttestationMessage(_Camel):
    attester: str
    cid: str
    verdict: str
    reason: str = ""
    created_at: int = Field(alias="createdAt")


class AttestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attestation: AttestationMessage
    signature: str


class TrustMessage(_Camel):
    truster: str
    trustee: str
    created_at: int = Field(alias="createdAt")


class TrustRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trust: TrustMessage
    signature: str


class Recorded(BaseModel):
    id: str
    digest: str
    duplicate: bool = False
    superseded: str | None = None


@router.get("/eip712")
def signing_info(context: Context) -> dict[str, Any]:
    """The EIP-712 domain and types a client signs manifests, attestations and vouches with."""
    return {
        "domain": context.domain.as_dict(),
        "types": {"content": CONTENT_TYPES, "attestation": ATTESTATION_TYPES, "trust": TRUST_TYPES},
    }


@router.post("/content", response_model=Recorded, status_code=201)
def publish(request: PublishRequest, context: Context, response: Response) -> Recorded:
    try:
        body = base64.b64decode(request.body_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignedObject("body_base64 is not valid base64") from None
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is {len(body)} bytes; at most {MAX_BODY_BYTES} allowed")
    signed = Signed("content", request.manifest.model_dump(by_alias=True), _sig(request.signature))
    with session_scope(context.db) as session:
        done = service.publish(session, context.blobs, context.domain, signed, body, _now())
    if done.duplicate:
        response.status_code = 200
    return Recorded(**done.__dict__)


@router.post("/attestations", response_model=Recorded, status_code=201)
def attest(request: AttestRequest, context: Context) -> Recorded:
    message = request.attestation.model_dump(by_alias=True)
    signed = Signed("attestation", message, _sig(request.signature))
    with session_scope(context.db) as session:
        done = service.attest(session, context.domain, signed, _now())
    return Recorded(**done.__dict__)


@router.post("/trust", response_model=Recorded, status_code=201)
def trust(request: TrustRequest, context: Context) -> Recorded:
    signed = Signed("trust", request.trust.model_dump(by_alias=True), _sig(request.signature))
    with session_scope(context.db) as session:
        done = service.vouch(session, context.domain, signed, _now())
    return Recorded(**done.__dict__)


@router.get("/content/by-url/{url_hash}")
def by_url(url_hash: str, context: Context) -> dict[str, Any]:
    """CIDs published for content living at the URL whose keccak256 is `url_hash` (0x-hex)."""
    if not (url_hash.startswith("0x") and len(url_hash) == 66):
        raise InvalidSignedObject("url_hash must be 0x followed by 64 hex digits")
    with session_scope(context.db) as session:
        return {"url_hash": url_hash.lower(), "cids": service.content_by_url(session, url_hash)}


@router.get("/content/{cid}")
def show(cid: str, context: Context) -> dict[str, Any]:
    """Manifest, provenance chain, attestations (with anchor proofs) and the current score."""
    with session_scope(context.db) as session:
        item = service.get_content(session, cid)
        manifest = service.manifest_of(item, service.parents_of(session, cid))
        digest, signature = item.digest, item.signature
        chain = service.provenance(session, cid)
        attestations = [
            {
                "attester": a.attester,
                "verdict": a.verdict,
                "reason": a.reason,
                "createdAt": a.created_at,
                "digest": a.digest,
                "signature": a.signature,
            }
            for a in service.attestations_on(session, cid)
        ]
        score = service.latest_score(session, cid)
    proofs = inclusion_proofs(
        context.db, AnchorKind.ATTESTATIONS, [entry["digest"] for entry in attestations]
    )
    for entry in attestations:
        entry["anchor"] = proofs[entry["digest"]]
    return {
        "cid": cid,
        "manifest": manifest,
        "signature": signature,
        "digest": digest,
        "anchor": inclusion_proof(context.db, AnchorKind.CONTENT, digest),
        "provenance": chain,
        "attestations": attestations,
        "score": score,
        "badge": f"/content/{cid}/badge.svg",
    }


@router.get("/content/{cid}/body")
def body(cid: str, context: Context) -> Response:
    with session_scope(context.db) as session:
        media_type = service.get_content(session, cid).media_type
    return Response(context.blobs.get(cid), media_type=media_type)


@router.get("/content/{cid}/badge.svg")
def badge(cid: str, context: Context) -> Response:
    with session_scope(context.db) as session:
        service.get_content(session, cid)
        score = service.latest_score(session, cid)
    svg = (
        badge_svg("unrated", None, 0)
        if score is None
        else badge_svg(score["status"], score["score"], score["n_ratings"])
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=60"})


def _sig(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise InvalidSignedObject("signature must be 0x-hex") from None
    if len(raw) != 65:
        raise InvalidSignedObject(f"signature must be 65 bytes, got {len(raw)}")
    return raw


def _now() -> int:
    return int(time.time())
