"""Validity rules of manifests, attestations and vouches, as pure functions."""

import dataclasses

import pytest

from aigora.content.signed import InvalidSignedObject, check, domain_for, url_hash
from aigora.core.cid import cid_of

BODY = b"the body"


def test_a_valid_manifest_checks_and_has_a_stable_digest(world):
    signed = world.manifest(BODY)
    assert check(signed, world.domain, world.now) == signed.digest(world.domain)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cid": "bafy-not-a-cid"}, "not a CID"),
        ({"parents": ["nope"]}, "not a CID"),
        ({"parents": [cid_of(BODY)]}, "its own parent"),
        ({"mediaType": ""}, "mediaType"),
        ({"createdAt": 0}, "createdAt"),
        ({"createdAt": 10**12}, "in the future"),
        ({"parents": [cid_of(bytes([i])) for i in range(17)]}, "at most 16"),
    ],
)
def test_malformed_manifests_are_refused(world, fields, message):
    with pytest.raises(InvalidSignedObject, match=message):
        check(world.manifest(BODY, **fields), world.domain, world.now)


def test_a_manifest_signed_by_someone_else_is_refused(world):
    forged = world.manifest(BODY, author=world.bob)
    forged = dataclasses.replace(forged, message={**forged.message, "author": world.alice.address})
    with pytest.raises(InvalidSignedObject, match="not by its author"):
        check(forged, world.domain, world.now)


def test_a_signature_for_another_chain_or_registry_does_not_verify(world):
    signed = world.manifest(BODY)
    for other in (
        domain_for(1, world.domain.verifying_contract),
        domain_for(world.domain.chain_id, "0x" + "cd" * 20),
    ):
        with pytest.raises(InvalidSignedObject, match="signed by"):
            check(signed, other, world.now)


def test_missing_or_extra_fields(world):
    signed = world.manifest(BODY)
    missing = dataclasses.replace(
        signed, message={k: v for k, v in signed.message.items() if k != "url"}
    )
    with pytest.raises(InvalidSignedObject, match="missing \\['url'\\]"):
        check(missing, world.domain, world.now)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"verdict": "great"}, "verdict must be one of"),
        ({"reason": "x" * 1001}, "at most 1000"),
        ({"target": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"}, "not a CID"),
    ],
)
def test_malformed_attestations(world, fields, message):
    target = fields.pop("target", cid_of(BODY))
    with pytest.raises(InvalidSignedObject, match=message):
        check(world.attestation(target, **fields), world.domain, world.now)


def test_self_vouching_is_refused(world):
    with pytest.raises(InvalidSignedObject, match="itself"):
        check(world.vouch(world.alice.address), world.domain, world.now)


def test_url_hash_is_keccak_of_the_url():
    assert url_hash("https://example.org/a") != url_hash("https://example.org/b")
    assert url_hash("") == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
