"""Reputation: publish a run over every current attestation and vouch, reproduce a published run
to the bit, and list runs with the documents anyone recomputes them from."""

from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy import select

from aigora.app._context import StoreContext, open_chain_view
from aigora.content import NotReproduced, Reproduction, RunSummary, publish_run, reproduce
from aigora.core.errors import NotFound
from aigora.governance import Policy
from aigora.reputation import ReputationParams
from aigora.store import ReputationRun, session_scope

MAX_RUNS = 200


class RunInfo(BaseModel):
    id: int
    algorithm_version: str
    attestation_root: str
    attestation_count: int
    params: str
    result_cid: str
    result_digest: str
    computed_at: str


class RunList(BaseModel):
    runs: list[RunInfo]


class Reputation:
    """`policy`: how to read the network's policy in force (a node passes its governance; by
    default a chain view is opened for the one read)."""

    def __init__(self, context: StoreContext, policy: Callable[[], Policy] | None = None) -> None:
        self.context = context
        self._policy = policy

    def policy_in_force(self) -> Policy:
        if self._policy is not None:
            return self._policy()
        from aigora.app._governance import Governance  # it builds tables from our runs

        view = open_chain_view(self.context.data_dir)
        try:
            return Governance(view).in_force()[1]
        finally:
            view.close()

    def compute(self, seeds: list[str] | None = None) -> RunSummary:
        """Compute trust and scores over every current attestation and vouch, and publish them.
        Seeds: the given ones, else `[reputation] seeds`, else the operator. In a network: over
        what is anchored on it, with the seeds and damping of the policy in force (read from
        the network's Governor; seeds given here replace its seeds), so every node that has
        imported the same batches publishes the same digest."""
        context = self.context
        if context.network is not None:
            settings = self.policy_in_force().reputation
            chosen = seeds or settings.seeds
            params = ReputationParams(seeds=tuple(chosen), damping=settings.damping)
            return publish_run(
                context.db, context.blobs, context.domain, params, anchored_only=True
            )
        operator = context.operator_address()
        chosen = seeds or context.config.reputation.seeds or ([operator] if operator else [])
        params = ReputationParams(seeds=tuple(chosen), damping=context.config.reputation.damping)
        return publish_run(context.db, context.blobs, context.domain, params)

    def recompute(self, run_id: int | None = None) -> Reproduction:
        """Recompute a published run (default: the newest) from its published inputs;
        `NotReproduced` unless the result is bit-identical."""
        context = self.context
        outcome = reproduce(context.db, context.blobs, context.domain, run_id)
        if not outcome.reproduced:
            details = "; ".join(outcome.differences[:3]) or "digests differ"
            raise NotReproduced(
                f"run {outcome.run_id} NOT reproduced: published {outcome.published_digest}, "
                f"recomputed {outcome.recomputed_digest}: {details}"
            )
        return outcome

    def runs(self, limit: int = 20) -> RunList:
        with session_scope(self.context.db) as session:
            rows = session.scalars(
                select(ReputationRun)
                .order_by(ReputationRun.id.desc())
                .limit(max(1, min(limit, MAX_RUNS)))
            )
            return RunList(
                runs=[
                    RunInfo(
                        id=run.id,
                        algorithm_version=run.algorithm_version,
                        attestation_root=run.attestation_root,
                        attestation_count=run.attestation_count,
                        params=run.params_json,
                        result_cid=run.result_cid,
                        result_digest=run.result_digest,
                        computed_at=run.computed_at.isoformat(),
                    )
                    for run in rows
                ]
            )

    def document(self, run_id: int) -> bytes:
        """The published inputs and result (canonical JSON) of a run."""
        with session_scope(self.context.db) as session:
            run = session.get(ReputationRun, run_id)
            if run is None:
                raise NotFound(f"no reputation run {run_id}")
            cid = run.result_cid
        return self.context.blobs.get(cid)
