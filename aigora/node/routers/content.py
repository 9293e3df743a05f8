"""Publish, attest and vouch (items the people signed); show content with provenance,
attestations, anchor proofs and score."""

import base64
import binascii

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from aigora.app import MAX_BATCH_ITEMS, ContentView, RecordedItem, SigningInfo, UrlMatches
from aigora.content import InvalidSignedObject, Signed
from aigora.node.deps import ByOperator, Services

router = APIRouter(tags=["content"])
SVG = {200: {"content": {"image/svg+xml": {}}, "description": "The badge."}}
BODY = {200: {"content": {"*/*": {}}, "description": "The content's bytes, as published."}}


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


@router.get("/eip712", response_model=SigningInfo)
def signing_info(services: Services) -> SigningInfo:
    """The EIP-712 domain and types a client signs manifests, attestations and vouches with."""
    return services.content.signing_info()


@router.post("/content", response_model=RecordedItem, status_code=201)
def publish(
    request: PublishRequest, services: Services, response: Response, operator: ByOperator
) -> RecordedItem:
    """Store content its author signed (at most `[limits] pending_per_author` of a signer's
    items wait for anchoring at once: 429 past it)."""
    try:
        body = base64.b64decode(request.body_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignedObject("body_base64 is not valid base64") from None
    signed = Signed("content", request.manifest.model_dump(by_alias=True), _sig(request.signature))
    done = services.content.publish(signed, body, limited=not operator)
    if done.duplicate:
        response.status_code = 200
    return done


class PublishBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[PublishRequest] = Field(
        min_length=1, max_length=MAX_BATCH_ITEMS, description="signed documents, in order"
    )


class PublishedBatch(BaseModel):
    items: list[RecordedItem]


@router.post("/content/batch", response_model=PublishedBatch)
def publish_batch(
    request: PublishBatch, services: Services, operator: ByOperator
) -> PublishedBatch:
    """Store many documents their authors signed, in one transaction: all or none (a bad item
    refuses the batch, naming its place). Held to the same pending quota as `POST /content`."""
    items = []
    for place, item in enumerate(request.items):
        try:
            body = base64.b64decode(item.body_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSignedObject(f"item {place}: body_base64 is not valid base64") from None
        manifest = item.manifest.model_dump(by_alias=True)
        items.append((Signed("content", manifest, _sig(item.signature)), body))
    return PublishedBatch(items=services.content.publish_batch(items, limited=not operator))


@router.post("/attestations", response_model=RecordedItem, status_code=201)
def attest(request: AttestRequest, services: Services, operator: ByOperator) -> RecordedItem:
    message = request.attestation.model_dump(by_alias=True)
    signed = Signed("attestation", message, _sig(request.signature))
    return services.content.attest(signed, limited=not operator)


@router.post("/trust", response_model=RecordedItem, status_code=201)
def trust(request: TrustRequest, services: Services, operator: ByOperator) -> RecordedItem:
    message = request.trust.model_dump(by_alias=True)
    return services.content.vouch(
        Signed("trust", message, _sig(request.signature)), limited=not operator
    )


@router.get("/content/by-url/{url_hash}", response_model=UrlMatches)
def by_url(url_hash: str, services: Services) -> UrlMatches:
    """CIDs published for content living at the URL whose keccak256 is `url_hash` (0x-hex)."""
    return services.content.by_url(url_hash)


@router.get("/content/{cid}", response_model=ContentView)
def show(cid: str, services: Services) -> ContentView:
    """Manifest, provenance chain, attestations (with anchor proofs) and the current score."""
    return services.content.show(cid)


@router.get("/content/{cid}/body", response_class=Response, responses=BODY)
def body(cid: str, services: Services) -> Response:
    data, media_type = services.content.body(cid)
    return Response(data, media_type=media_type)


@router.get("/content/{cid}/badge.svg", response_class=Response, responses=SVG)
def badge(cid: str, services: Services) -> Response:
    svg = services.content.badge(cid)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=60"})


def _sig(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise InvalidSignedObject("signature must be 0x-hex") from None
    if len(raw) != 65:
        raise InvalidSignedObject(f"signature must be 65 bytes, got {len(raw)}")
    return raw
