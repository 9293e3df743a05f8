"""Signed content and community attestations: publish, attest, vouch, anchor, and show provenance.

Pure rules (what a valid manifest or attestation is) live in `signed.py`; `service.py` applies them
to the store (each function takes an open session: the caller's `session_scope` makes it atomic);
`anchoring.py` posts batch roots on-chain; `scoring.py` publishes and reproduces reputation runs;
`badge.py` draws the embeddable badge. Use `service` as a namespace
(`from aigora.content import service`), the rest by name.
"""

from aigora.content import service
from aigora.content.anchoring import (
    ITEM_KINDS,
    KIND_CODES,
    MAX_BATCH,
    AnchoredBatch,
    anchor_all,
    anchor_pending,
    batch_tree,
    inclusion_proof,
    inclusion_proofs,
)
from aigora.content.badge import badge_svg
from aigora.content.scoring import (
    NotReproduced,
    Reproduction,
    RunSummary,
    Universe,
    compute_run,
    publish_run,
    reproduce,
)
from aigora.content.service import Recorded
from aigora.content.signed import (
    ATTESTATION_TYPES,
    CONTENT_TYPES,
    LEAF_ENCODING,
    TRUST_TYPES,
    VERDICTS,
    InvalidSignedObject,
    Replay,
    Signed,
    check,
    content_message,
    domain_for,
    sign,
    url_hash,
)

__all__ = [
    "ATTESTATION_TYPES",
    "CONTENT_TYPES",
    "ITEM_KINDS",
    "KIND_CODES",
    "LEAF_ENCODING",
    "MAX_BATCH",
    "TRUST_TYPES",
    "VERDICTS",
    "AnchoredBatch",
    "InvalidSignedObject",
    "NotReproduced",
    "Recorded",
    "Replay",
    "Reproduction",
    "RunSummary",
    "Signed",
    "Universe",
    "anchor_all",
    "anchor_pending",
    "badge_svg",
    "batch_tree",
    "check",
    "compute_run",
    "content_message",
    "domain_for",
    "inclusion_proof",
    "inclusion_proofs",
    "publish_run",
    "reproduce",
    "service",
    "sign",
    "url_hash",
]
