"""Who has a say, and how much: voting power from seeded trust, never from a token balance.

The rule. An account's power is its seeded trust in a published reputation run, in units of
10**-18 of all trust: `power = floor(trust * 10**18)`, computed exactly from the float64 trust
(`Fraction`), for the `MAX_VOTERS` most trusted accounts (ties by address), accounts of power 0
left out. The table is a StandardMerkleTree over `(address, uint256)` (the Distributor's leaf
shape) whose root and total the Governor checks votes against. A genesis table, before anyone
attested anything, is seeded trust over no edges: the seeds, equally.

Why trust and not money or earnings:
- a token balance can be bought, so the largest holder would decide alone;
- earnings can be bought too: any address posts its own tree in the shared Distributor, so an
  operator can "pay" its own second addresses whatever it likes, from its own funds, and claim
  it back (earnings proven against a posted root prove that someone paid, not that anyone else
  valued the work);
- seeded trust starts at the seeds the community chose and flows only along vouches, so an
  account nobody trusted has trust exactly 0, however many fresh accounts vouch for it; a
  region reached by a few attack edges keeps at most (1 - damping) / damping times the trust
  that flows into it per step (`aigora.reputation._params`). Two addresses of one person hold
  what one address with the same vouches would: split vouches split the trust, and full
  vouches for both take weight from the voucher's other vouchees (the voucher's choice); two
  addresses vouching for each other are a sybil region, bounded like any other.
So a brigade of fresh accounts, however many, has no power, and a whale has the power of what
others trust it for, whatever it holds. What this rule cannot stop: the seeds and the accounts
they trust, acting together, decide; a seed that turns bad keeps its say until a vote replaces
the seed set. The table changes only by a vote (a proposal carries the next table), and anyone
can recompute it from the run it names.
"""

from collections.abc import Iterable, Mapping
from fractions import Fraction

from aigora.reputation import TrustEdge, seeded_trust

POWER_UNIT = 10**18
"""All trust, in power units. A run's float64 trust sums to 1 within rounding (a few 1e-15
above, at worst), so a table's total is within about 10**4 units of 10**18; the Governor takes
the table's own total, never this constant."""
MAX_VOTERS = 400
"""Entries in one table: with ~68 bytes each, a policy document stays within the Governor's
32 KiB. Accounts beyond the 400 most trusted hold at most 1/400 of all trust each."""


def power_of(trust: float) -> int:
    """floor(trust * 10**18), exactly: the float64's own value, not a rounded decimal."""
    return int(Fraction(trust) * POWER_UNIT)


def standing_from_trust(trust: Mapping[str, float]) -> dict[str, int]:
    """The standing table of a run's trust values: the `MAX_VOTERS` most powerful, power > 0."""
    powers = {account: power_of(value) for account, value in trust.items()}
    ranked = sorted(
        ((p, a) for a, p in powers.items() if p > 0), key=lambda pa: (-pa[0], pa[1].lower())
    )
    return {account: power for power, account in ranked[:MAX_VOTERS]}


def genesis_standing(seeds: Iterable[str], damping: float) -> dict[str, int]:
    """Before any vouch: seeded trust over no edges, i.e. the seeds with equal power."""
    no_edges: list[TrustEdge] = []
    return standing_from_trust(seeded_trust(no_edges, tuple(seeds), damping))
