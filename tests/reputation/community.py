"""Synthetic communities with known truth, for the resistance tests.

Two viewpoints ("a" and "b") of honest attesters vouch for each other, mostly within their own side;
content is genuinely good (both sides mostly say accurate), genuinely bad (both mostly say
misleading) or polarising (each side likes its own). Everything is drawn from a seeded generator,
so a community is the same on every run.
"""

from dataclasses import dataclass, field

import numpy as np

from aigora.reputation import Rating, TrustEdge

ROOT = "0x" + "ab" * 32


@dataclass
class Community:
    sides: dict[str, list[str]]
    seeds: tuple[str, ...]
    edges: list[TrustEdge]
    ratings: list[Rating]
    kinds: dict[str, str] = field(default_factory=dict)  # cid -> good / bad / polar-a / polar-b

    @property
    def honest(self) -> list[str]:
        return self.sides["a"] + self.sides["b"]

    def of_kind(self, kind: str) -> list[str]:
        return [cid for cid, k in self.kinds.items() if k == kind]


def build(
    seed: int = 1,
    per_side: int = 50,
    n_good: int = 30,
    n_bad: int = 30,
    n_polar: int = 15,
    rate_p: float = 0.4,
    agree_p: float = 0.9,
    out_degree: int = 8,
) -> Community:
    """Honest attesters, their trust graph, and their noisy ratings of good, bad, polar content.

    Each attester rates each item with probability `rate_p` and gives the verdict its side holds
    with probability `agree_p`; each vouches for `out_degree` others, one of them across sides.
    Two attesters per side are seeds.
    """
    rng = np.random.default_rng(seed)
    sides = {s: [f"honest-{s}-{i:03d}" for i in range(per_side)] for s in "ab"}
    seeds = (*sides["a"][:2], *sides["b"][:2])
    edges = []
    for s, other in (("a", "b"), ("b", "a")):
        for i, truster in enumerate(sides[s]):
            mates = [j for j in range(per_side) if j != i]
            for j in rng.choice(mates, out_degree - 1, replace=False):
                edges.append(TrustEdge(truster, sides[s][int(j)]))
            edges.append(TrustEdge(truster, sides[other][int(rng.integers(per_side))]))
    c = Community(sides, seeds, edges, [])
    holds = {  # kind -> side -> does the side think it accurate
        "good": {"a": True, "b": True},
        "bad": {"a": False, "b": False},
        "polar-a": {"a": True, "b": False},
        "polar-b": {"a": False, "b": True},
    }
    counts = {"good": n_good, "bad": n_bad, "polar-a": n_polar, "polar-b": n_polar}
    for kind, n in counts.items():
        for k in range(n):
            cid = f"{kind}-{k:03d}"
            c.kinds[cid] = kind
            for s in "ab":
                for attester in sides[s]:
                    if rng.random() < rate_p:
                        says = holds[kind][s] if rng.random() < agree_p else not holds[kind][s]
                        c.ratings.append(Rating(attester, cid, verdict(says)))
    return c


def verdict(accurate: bool) -> str:
    return "accurate" if accurate else "misleading"


def add_target(
    c: Community, cid: str, rng: np.random.Generator, a_p: float, b_p: float, rate_p: float = 0.5
) -> None:
    """Content that side a calls accurate with probability `a_p`, side b with `b_p`."""
    c.kinds[cid] = "target"
    for s, p in (("a", a_p), ("b", b_p)):
        for attester in c.sides[s]:
            if rng.random() < rate_p:
                c.ratings.append(Rating(attester, cid, verdict(rng.random() < p)))


def add_sybils(
    c: Community, rng: np.random.Generator, n: int, attack_edges: int, target: str, says: bool
) -> list[str]:
    """`n` sybils that vouch for each other densely and get `attack_edges` edges from honest ones.

    To look ordinary to the factorisation, and to look like agreement across viewpoints, half pose
    as side a and half as side b: each rates good, bad and polarising content as its side would.
    Then they all give `target` the verdict `says`.
    """
    sybils = [f"sybil-{i:03d}" for i in range(n)]
    for i, s in enumerate(sybils):
        for j, t in enumerate(sybils):
            if i != j:
                c.edges.append(TrustEdge(s, t))
    trusters = rng.choice(len(c.honest), attack_edges, replace=False)
    for k, h in enumerate(trusters):
        c.edges.append(TrustEdge(c.honest[int(h)], sybils[k % n]))
    for i, s in enumerate(sybils):
        side = "ab"[i % 2]
        for cid, kind in c.kinds.items():
            if kind != "target" and rng.random() < 0.4:
                c.ratings.append(Rating(s, cid, verdict(kind in ("good", f"polar-{side}"))))
        c.ratings.append(Rating(s, target, verdict(says)))
    return sybils


def add_side_brigade(
    c: Community, rng: np.random.Generator, side: str, n: int, target: str
) -> None:
    """Side `side` turns out for `target`: all its honest attesters call it accurate, and so do `n`
    new accounts that honest attesters of that side vouch for (two each), who otherwise rate
    polarising content as their side does."""
    for attester in c.sides[side]:
        c.ratings.append(Rating(attester, target, "accurate"))
    for i in range(n):
        account = f"fan-{side}-{i:03d}"
        for j in rng.choice(len(c.sides[side]), 2, replace=False):
            c.edges.append(TrustEdge(c.sides[side][int(j)], account))
        for cid, kind in c.kinds.items():
            if cid != target and kind.startswith("polar") and rng.random() < 0.4:
                c.ratings.append(Rating(account, cid, verdict(kind == f"polar-{side}")))
        c.ratings.append(Rating(account, target, "accurate"))
