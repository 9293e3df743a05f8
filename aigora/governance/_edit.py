"""Drafting the next policy from the one in force, and saying a policy in plain words.

A draft is the policy in force with edits applied (`--set section.field=value`, removing or
restoring a CID, a new standing table) or a whole document; either way it comes out in its one
canonical spelling (lists sorted as the validators require), so the person proposing never has
to sort anything by hand, and the result is checked exactly as `parse_policy` checks a
document read from the chain. The plain-words rendering is shared by `aigora policy show` and
the policy page, so both say the same thing.
"""

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aigora.core.canonical import canonical_json
from aigora.core.cid import InvalidCID, digest_of
from aigora.core.errors import EncodingError
from aigora.governance._policy import Policy, PolicyError, Standing, parse_policy

EDITABLE = ("admission", "objectives", "reputation")
"""The sections `--set` edits; the standing table changes only as a whole (`--standing`)."""


def parse_setting(text: str) -> tuple[str, str, Any]:
    """`section.field=value` as (section, field, value): the value is read as JSON when it is
    JSON (`0.3`, `true`, `null`, `["CC0-1.0"]`), else taken as a string (a CID)."""
    name, sep, raw = text.partition("=")
    section, dot, field = name.strip().partition(".")
    if not sep or not dot or section not in EDITABLE or not field:
        raise PolicyError(
            f"a setting is section.field=value with section one of {', '.join(EDITABLE)} "
            f"(e.g. admission.min_score=0.3), got {text!r}"
        )
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return section, field, value


def _sorted(field: str, value: Any) -> Any:
    """A list of strings in the order the policy's validators require (seeds by lowercase)."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted(value, key=str.lower if field == "seeds" else None)
    return value


def _cid_order(cid: str) -> bytes:
    try:
        return digest_of(cid)
    except InvalidCID as exc:
        raise PolicyError(f"{cid!r} is not a CID: {exc}") from None


def policy_from_data(data: Any) -> Policy:
    """The policy `data` (parsed JSON) spells, in canonical form, checked as on-chain ones are."""
    try:
        document = canonical_json(data)
    except EncodingError as exc:
        raise PolicyError(f"not a policy: {exc}") from None
    return parse_policy(document)


def policy_from_file(raw: bytes) -> Policy:
    """A whole policy document written by hand (any JSON spelling), canonicalised."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise PolicyError(f"the policy file is not JSON: {exc}") from None
    return policy_from_data(data)


def edit_policy(
    policy: Policy,
    *,
    settings: Iterable[tuple[str, str, Any]] = (),
    removals: Iterable[tuple[str, str]] = (),
    restores: Iterable[str] = (),
    standing: Standing | None = None,
) -> Policy:
    """`policy` with `settings` (from `parse_setting`) applied, the CIDs in `removals` removed
    with their reasons, those in `restores` admitted again and, if given, a new standing."""
    data = policy.model_dump(mode="json")
    for section, field, value in settings:
        if field not in data[section]:
            raise PolicyError(
                f"{section} has no field {field!r}; it has {', '.join(sorted(data[section]))}"
            )
        data[section][field] = _sorted(field, value)
    removed = {entry["cid"]: entry for entry in data["admission"]["removed"]}
    for cid in restores:
        if removed.pop(cid, None) is None:
            raise PolicyError(f"{cid} is not removed, so there is nothing to restore")
    for cid, reason in removals:
        removed[cid] = {"cid": cid, "reason": reason}
    data["admission"]["removed"] = sorted(removed.values(), key=lambda r: _cid_order(r["cid"]))
    if standing is not None:
        data["standing"] = standing.model_dump(mode="json")
    return policy_from_data(data)


# ---- plain words -------------------------------------------------------------------------------


def _listed(values: list[str], empty: str) -> str:
    return ", ".join(values) if values else empty


def describe_policy(policy: Policy) -> list[tuple[str, str, str]]:
    """The policy as (section, what, in plain words) rows."""
    admission, objectives, reputation = policy.admission, policy.objectives, policy.reputation
    standing = policy.standing
    score = "any score" if admission.min_score is None else f"at least {admission.min_score}"
    return [
        ("admission", "reputation score", score),
        ("admission", "unscored content", "admitted" if admission.admit_unscored else "refused"),
        ("admission", "refused statuses", _listed(list(admission.exclude_statuses), "none")),
        ("admission", "licences", _listed(list(admission.licenses), "any")),
        ("admission", "removed by vote", f"{len(admission.removed)} CIDs"),
        ("objectives", "validation set", objectives.validation or "none"),
        ("objectives", "item labels", objectives.item_labels or "none"),
        ("objectives", "training pool per epoch", f"{int(objectives.training_pool):,}"),
        ("objectives", "neighbours (k)", str(objectives.k)),
        ("objectives", "duplicate threshold", str(objectives.duplicate_threshold)),
        (
            "objectives",
            "operator's share",
            f"at most {objectives.max_operator_bps / 100:g}% of each answer's fee",
        ),
        ("reputation", "seeds", f"{len(reputation.seeds)}: {', '.join(reputation.seeds)}"),
        ("reputation", "damping", f"{reputation.damping:g}"),
        (
            "standing",
            "voters",
            f"{len(standing.powers)}, from "
            + (f"reputation run {standing.run}" if standing.run else "the seeds (genesis)"),
        ),
    ]


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    words = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(words) or f"{secs} s"


def plain_time(timestamp: int, now: int) -> str:
    """A chain time as a person reads it: how far from `now` (chain time too), then the UTC
    date and time."""
    at = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
    if timestamp == now:
        return f"now ({at})"
    span = _span(abs(timestamp - now))
    return f"in {span} ({at})" if timestamp > now else f"{span} ago ({at})"


def share(power: int, total: int) -> str:
    """`power` as a percentage of `total`, to one decimal (floored: never shows a quorum met
    that is not)."""
    if total <= 0:
        return "0%"
    tenths = power * 1000 // total
    return f"{tenths // 10}.{tenths % 10}%"
