"""Signed content and community attestations: publish, attest, vouch, anchor, and show provenance.

Pure rules (what a valid manifest or attestation is) live in `signed.py`; `service.py` applies them
to the store; `anchoring.py` posts batch roots on-chain; `badge.py` draws the embeddable badge.
"""
