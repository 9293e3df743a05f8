"""The policy document (`aigora.governance._policy`): one meaning has one spelling, so one hash.
`parse_policy` refuses every other spelling (re-spaced, reordered, unsorted or repeated lists,
lower-case addresses), anything that is not a policy, and anything the Governor could not store;
`policy_diff` says in one line per field what a proposal changes."""

import copy
import json
from typing import Any

import pytest
from eth_account import Account

from aigora.core.canonical import canonical_json
from aigora.core.cid import cid_of, digest_of
from aigora.core.errors import AigoraError
from aigora.core.hashing import keccak
from aigora.governance import (
    MAX_DOCUMENT,
    Policy,
    PolicyError,
    genesis_policy,
    parse_policy,
    policy_diff,
)

SEEDS = sorted(
    (Account.from_key(keccak(f"seed {i}".encode())).address for i in range(3)), key=str.lower
)
GENESIS = genesis_policy(SEEDS)
CID_A, CID_B = sorted((cid_of(b"a"), cid_of(b"b")), key=digest_of)  # the order of removals
RUN = "0x" + "ab" * 32


def fields() -> dict[str, Any]:
    """The genesis policy as JSON values, to be changed and spelt again."""
    return copy.deepcopy(GENESIS.model_dump(mode="json"))


def spelt(data: dict[str, Any]) -> bytes:
    return canonical_json(data)


def refused(document: bytes, match: str) -> None:
    with pytest.raises(PolicyError, match=match):
        parse_policy(document)


# ---- one spelling -------------------------------------------------------------------------------


def test_the_canonical_document_parses_to_the_policy_it_spells():
    document = GENESIS.document()
    assert parse_policy(document) == GENESIS
    assert GENESIS.hash() == keccak(document)
    assert GENESIS.hash_hex == "0x" + keccak(document).hex()
    assert issubclass(PolicyError, AigoraError)


@pytest.mark.parametrize(
    "respell",
    [
        lambda data: json.dumps(data).encode(),  # spaces after separators
        lambda data: json.dumps(data, separators=(",", ":"), indent=1).encode(),
        lambda data: json.dumps(dict(reversed(list(data.items()))), separators=(",", ":")).encode(),
        lambda data: canonical_json(data) + b"\n",
        lambda data: canonical_json(data).replace(b'"damping":0.3', b'"damping":0.30'),
        lambda data: canonical_json(data).replace(b'"k":5', b'"k":5.0'),
    ],
    ids=["spaced", "indented", "reordered", "trailing newline", "0.30", "5.0"],
)
def test_another_spelling_of_the_same_policy_is_refused(respell):
    document = respell(fields())
    assert document != GENESIS.document()
    assert Policy.model_validate_json(document) == GENESIS  # the same meaning...
    refused(document, "not in canonical form")  # ...but not its one spelling


def test_a_lower_case_seed_is_not_the_canonical_spelling():
    data = fields()
    data["reputation"]["seeds"] = [s.lower() for s in SEEDS]
    refused(spelt(data), "not in canonical form")


def test_standing_accounts_must_be_written_in_eip55_form():
    data = fields()
    data["standing"]["powers"] = {a.lower(): p for a, p in data["standing"]["powers"].items()}
    refused(spelt(data), "must be written in its EIP-55 form")
    data["standing"]["powers"] = {"0x1234": "1"}
    refused(spelt(data), "is not a 0x-prefixed 20-byte address")


@pytest.mark.parametrize("power", ["0", "01", "-1", "1.0", "1e3", " 1", ""])
def test_a_standing_power_is_a_positive_decimal_in_its_shortest_form(power):
    data = fields()
    data["standing"]["powers"][SEEDS[0]] = power
    refused(spelt(data), "power must be a positive decimal")


def test_a_standing_names_at_least_one_voter_and_its_run_by_digest():
    data = fields()
    data["standing"]["powers"] = {}
    refused(spelt(data), "standing.powers")
    data = fields()
    data["standing"]["run"] = "0x" + "AB" * 32
    refused(spelt(data), "standing.run")
    data["standing"]["run"] = RUN
    assert parse_policy(spelt(data)).standing.run == RUN


# ---- lists: sorted, once ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "name", "values"),
    [
        ("admission", "licenses", ["MIT", "CC-BY-4.0"]),
        ("admission", "exclude_statuses", ["not helpful", "helpful"]),
        ("reputation", "seeds", list(reversed(SEEDS))),
    ],
)
def test_an_unsorted_list_is_refused(section, name, values):
    data = fields()
    data[section][name] = values
    refused(spelt(data), f"{section}.{name}: Value error, must be sorted")
    data[section][name] = sorted(values, key=str.lower)
    assert getattr(getattr(parse_policy(spelt(data)), section), name) == data[section][name]


@pytest.mark.parametrize(
    ("section", "name", "values"),
    [
        ("admission", "licenses", ["MIT", "MIT"]),
        ("admission", "exclude_statuses", ["helpful", "helpful"]),
        ("reputation", "seeds", [SEEDS[0], SEEDS[0]]),
    ],
)
def test_a_repeated_entry_is_refused(section, name, values):
    data = fields()
    data[section][name] = values
    refused(spelt(data), f"{section}.{name}: Value error, has a repeated entry")


def test_removals_are_sorted_by_digest_once_each_and_name_valid_cids():
    data = fields()
    removal = {"cid": CID_A, "reason": "spam"}
    other = {"cid": CID_B, "reason": "copyright"}
    data["admission"]["removed"] = [removal, other]
    policy = parse_policy(spelt(data))
    assert policy.admission.removal(CID_B).reason == "copyright"
    assert policy.admission.removal(cid_of(b"c")) is None
    data["admission"]["removed"] = [other, removal]
    refused(spelt(data), "must be sorted")
    by_digest = [{"cid": cid_of(b"1"), "reason": "spam"}, {"cid": cid_of(b"37"), "reason": "spam"}]
    assert by_digest[0]["cid"] > by_digest[1]["cid"]  # not the order of their spellings
    data["admission"]["removed"] = by_digest
    assert parse_policy(spelt(data)).admission.removed[0].cid == cid_of(b"1")
    data["admission"]["removed"] = list(reversed(by_digest))
    refused(spelt(data), "must be sorted")
    data["admission"]["removed"] = [removal, {"cid": CID_A, "reason": "again"}]
    refused(spelt(data), "has a repeated entry")
    for cid in ("not a cid", "bafkrei", CID_A.upper(), ""):
        data["admission"]["removed"] = [{"cid": cid, "reason": "spam"}]
        refused(spelt(data), "admission.removed.0.cid")
    data["admission"]["removed"] = [{"cid": CID_A, "reason": ""}]
    refused(spelt(data), "admission.removed.0.reason")


def test_objectives_name_their_files_by_valid_cid():
    data = fields()
    data["objectives"]["validation"] = "bafy-not-a-cid"
    refused(spelt(data), "objectives.validation")
    data["objectives"]["validation"] = CID_A
    data["objectives"]["item_labels"] = CID_B
    objectives = parse_policy(spelt(data)).objectives
    assert (objectives.validation, objectives.item_labels) == (CID_A, CID_B)


# ---- not a policy at all ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "match"),
    [
        (b"", "not a policy"),
        (b"not json", "not a policy"),
        (b"[]", "not a policy"),
        (canonical_json({"format": "aigora-policy/2"}), "not a policy: format"),
    ],
)
def test_what_is_no_policy_is_refused_with_where(document, match):
    refused(document, match)


def test_an_unknown_field_is_refused():
    data = fields()
    data["admission"]["mint_to"] = SEEDS[0]
    refused(spelt(data), "not a policy: admission.mint_to")
    data = fields()
    data["treasury"] = {}
    refused(spelt(data), "not a policy: treasury")


def test_a_document_the_governor_cannot_store_is_refused_both_ways():
    """The Governor takes Bytes[32768]: a policy above that can neither be written nor read."""
    data = fields()
    removals = sorted(
        ({"cid": cid_of(str(i).encode()), "reason": "x" * 200} for i in range(200)),
        key=lambda r: digest_of(r["cid"]),
    )
    data["admission"]["removed"] = removals
    document = spelt(data)
    assert len(document) > MAX_DOCUMENT
    refused(document, f"above the Governor's {MAX_DOCUMENT}")
    policy = Policy.model_validate_json(document)
    with pytest.raises(PolicyError, match=f"bytes, above the Governor's {MAX_DOCUMENT}"):
        policy.document()
    data["admission"]["removed"] = removals[:100]  # about 30 KB: fits
    assert len(parse_policy(spelt(data)).document()) <= MAX_DOCUMENT


# ---- what a proposal changes --------------------------------------------------------------------


def test_the_diff_is_one_line_per_changed_field_and_the_standing_as_counts():
    assert policy_diff(GENESIS, GENESIS) == []
    data = fields()
    data["admission"]["min_score"] = 0.4
    data["admission"]["removed"] = [{"cid": CID_A, "reason": "spam"}]
    data["objectives"]["max_operator_bps"] = 1500
    newcomer = Account.from_key(keccak(b"newcomer")).address
    powers = data["standing"]["powers"]
    powers[SEEDS[0]] = "400000000000000000"
    del powers[SEEDS[1]]
    powers[newcomer] = "100000000000000000"
    data["standing"] = {"powers": dict(sorted(powers.items())), "run": RUN}
    changed = parse_policy(spelt(data))
    assert policy_diff(GENESIS, changed) == [
        "admission.min_score: None -> 0.4",
        f"admission.removed: [] -> [{{'cid': '{CID_A}', 'reason': 'spam'}}]",
        "objectives.max_operator_bps: 2000 -> 1500",
        f"standing: 3 voters (2 new or changed, 1 removed), from run {RUN}",
    ]
    assert policy_diff(changed, GENESIS)[-1] == (
        "standing: 3 voters (2 new or changed, 1 removed), from run none (the seeds)"
    )


def test_the_diff_names_a_new_run_even_when_the_powers_are_the_same():
    data = fields()
    data["standing"]["run"] = RUN
    assert policy_diff(GENESIS, parse_policy(spelt(data))) == [
        f"standing: 3 voters (0 new or changed, 0 removed), from run {RUN}"
    ]


def test_the_genesis_policy_is_the_seeds_once_each_in_order_with_equal_standing():
    shuffled = [SEEDS[2].lower(), SEEDS[0], SEEDS[1], SEEDS[0]]
    policy = genesis_policy(shuffled, damping=0.2)
    assert policy.reputation.seeds == SEEDS
    assert policy.reputation.damping == 0.2
    assert set(policy.standing.table()) == set(SEEDS)
    assert len(set(policy.standing.table().values())) == 1
    assert policy.standing.run is None
    assert parse_policy(policy.document()) == policy
