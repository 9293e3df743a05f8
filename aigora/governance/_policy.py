"""The policy in force: one typed document that decides what a network admits, what it pays for and
whom it trusts, stored by its hash in the Governor contract and read back from the chain.

A policy is canonical JSON (RFC 8785) of `Policy`: its keccak256 is the `policy_hash` the Governor
enacts, and its bytes travel in the contract's `Proposed` event, so every node reads the same fields
from the chain and nothing from its own configuration. `parse_policy` accepts only the canonical
spelling (the bytes must be exactly `canonical_json` of what they parse to): one meaning has one
document and one hash, so two proposals that change the same thing cannot differ by whitespace.

Sections:
- `admission`: what a snapshot must admit and must not: content anchored on the network whose
  newest score (in the reputation run the snapshot names) reaches `min_score` (None: any score),
  unscored content if `admit_unscored`, no content with a status in `exclude_statuses`, only
  licences in `licenses` (empty: any), and never a CID in `removed` (each with the reason the
  community stated).
- `objectives`: what training value is measured against (`validation`, the CID of a JSON-lines
  file `{"text", "label"}` anchored as content, and `item_labels`, the CID of a JSON object of
  CID to label), the per-epoch `training_pool` each operator funds, its `k` and
  `duplicate_threshold`, and `max_operator_bps`, the cap on the share of each answer's fee an
  operator keeps (the rest goes to the passages' authors).
- `reputation`: the seed set and damping of seeded trust.
- `standing`: the voters' standing table (`aigora.governance._standing`), whose root the Governor
  checks votes against.
"""

from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar

from eth_utils import is_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aigora.core.canonical import canonical_json
from aigora.core.cid import InvalidCID, digest_of
from aigora.core.errors import AigoraError, EncodingError
from aigora.core.hashing import keccak
from aigora.governance._standing import genesis_standing

POLICY_FORMAT = "aigora-policy/1"
MAX_DOCUMENT = 32_768  # bytes: the Governor's Bytes[MAX_DOCUMENT]
MAX_REASON = 280
STATUSES = ("helpful", "not helpful", "needs more ratings")
Status = Literal["helpful", "not helpful", "needs more ratings"]
_AMOUNT = r"^[0-9]{1,78}$"
T = TypeVar("T")


class PolicyError(AigoraError):
    """A policy document is malformed, not canonical, or not a policy at all."""


def _address(value: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"{value!r} is not a 0x-prefixed 20-byte address")
    return to_checksum_address(value)


def _checked_cid(value: str) -> str:
    """A CID in its one spelling (`digest_of` refuses aliases), as a validation error else."""
    try:
        digest_of(value)
    except InvalidCID as exc:
        raise ValueError(str(exc)) from None
    return value


def _sorted_unique(values: list[T], key: Callable[[T], Any] = lambda v: v) -> list[T]:
    keys = [key(v) for v in values]
    if len(set(keys)) != len(keys):
        raise ValueError("has a repeated entry")
    if keys != sorted(keys):
        raise ValueError("must be sorted (one spelling per policy)")
    return values


class Removal(BaseModel):
    """A CID the community removed, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cid: str
    reason: str = Field(min_length=1, max_length=MAX_REASON)

    @field_validator("cid")
    @classmethod
    def _cid(cls, value: str) -> str:
        return _checked_cid(value)


class Admission(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_score: float | None = None
    admit_unscored: bool = True
    exclude_statuses: list[Status] = []
    licenses: list[str] = []
    removed: list[Removal] = []

    @field_validator("exclude_statuses", "licenses")
    @classmethod
    def _one_spelling(cls, value: list[str]) -> list[str]:
        return _sorted_unique(value)

    @field_validator("removed")
    @classmethod
    def _removed(cls, value: list[Removal]) -> list[Removal]:
        return _sorted_unique(value, key=lambda r: digest_of(r.cid))

    @property
    def uses_scores(self) -> bool:
        """Whether admission depends on a reputation run at all."""
        return self.min_score is not None or bool(self.exclude_statuses)

    def removal(self, cid: str) -> Removal | None:
        return next((r for r in self.removed if r.cid == cid), None)


class Objectives(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    validation: str | None = None
    item_labels: str | None = None
    training_pool: str = Field(default="0", pattern=_AMOUNT)
    k: int = Field(default=5, ge=1, le=1000)
    duplicate_threshold: int = Field(default=15_500, ge=1)
    max_operator_bps: int = Field(default=2000, ge=0, le=10_000)

    @field_validator("validation", "item_labels")
    @classmethod
    def _cid(cls, value: str | None) -> str | None:
        return None if value is None else _checked_cid(value)


class ReputationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seeds: list[str] = Field(min_length=1)
    damping: float = Field(default=0.3, gt=0, lt=1)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[str]) -> list[str]:
        return _sorted_unique([_address(s) for s in value], key=lambda s: s.lower())


class Standing(BaseModel):
    """Who may vote, with what power (decimal strings: powers are up to 10**18). `run` is the
    digest of the reputation run the table was derived from (None for a genesis table, derived
    from the seeds alone)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run: str | None = Field(default=None, pattern=r"^0x[0-9a-f]{64}$")
    powers: dict[str, str] = Field(min_length=1)

    @field_validator("powers")
    @classmethod
    def _powers(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for account, power in value.items():
            if _address(account) != account:
                raise ValueError(f"{account} must be written in its EIP-55 form")
            if not power.isdecimal() or int(power) <= 0 or str(int(power)) != power:
                raise ValueError(f"{account}'s power must be a positive decimal, got {power!r}")
            out[account] = power
        return out

    def table(self) -> dict[str, int]:
        return {account: int(power) for account, power in self.powers.items()}

    @property
    def total(self) -> int:
        return sum(self.table().values())


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["aigora-policy/1"] = POLICY_FORMAT
    admission: Admission = Admission()
    objectives: Objectives = Objectives()
    reputation: ReputationSettings
    standing: Standing

    def document(self) -> bytes:
        """The canonical bytes the Governor stores the hash of."""
        try:
            data = canonical_json(self.model_dump(mode="json"))
        except EncodingError as exc:
            raise PolicyError(f"the policy has no canonical form: {exc}") from None
        if len(data) > MAX_DOCUMENT:
            raise PolicyError(
                f"the policy document is {len(data)} bytes, above the Governor's {MAX_DOCUMENT}"
            )
        return data

    def hash(self) -> bytes:
        return keccak(self.document())

    @property
    def hash_hex(self) -> str:
        return "0x" + self.hash().hex()


def parse_policy(document: bytes) -> Policy:
    """The policy a document spells, refusing anything but its canonical spelling."""
    try:
        policy = Policy.model_validate_json(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise PolicyError(f"not a policy: {where}: {first['msg']}") from None
    if policy.document() != document:
        raise PolicyError("the policy document is not in canonical form (RFC 8785)")
    return policy


def policy_diff(old: Policy, new: Policy) -> list[str]:
    """What `new` changes, one plain line per field (the standing table as counts)."""
    lines: list[str] = []
    for section in ("admission", "objectives", "reputation"):
        before = getattr(old, section).model_dump(mode="json")
        after = getattr(new, section).model_dump(mode="json")
        for name in after:
            if before.get(name) != after[name]:
                lines.append(f"{section}.{name}: {before.get(name)!r} -> {after[name]!r}")
    old_table, new_table = old.standing.table(), new.standing.table()
    if old_table != new_table or old.standing.run != new.standing.run:
        changed = sum(1 for a in new_table if old_table.get(a) != new_table[a])
        gone = sum(1 for a in old_table if a not in new_table)
        lines.append(
            f"standing: {len(new_table)} voters ({changed} new or changed, {gone} removed), "
            f"from run {new.standing.run or 'none (the seeds)'}"
        )
    return lines


def genesis_policy(seeds: Iterable[str], damping: float = 0.3) -> Policy:
    """A new network's first policy: everything admitted, the default objectives, and the seeds
    as the only voters, with equal standing."""
    seeds = tuple(sorted({_address(s) for s in seeds}, key=str.lower))
    table = genesis_standing(seeds, damping)
    return Policy(
        reputation=ReputationSettings(seeds=list(seeds), damping=damping),
        standing=Standing(powers={account: str(power) for account, power in table.items()}),
    )
