"""Pending approvals: out-of-policy intents kept for the owner, in the node's database."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from aigora.agent.errors import ApprovalError
from aigora.agent.intents import AnyIntent, parse_intent
from aigora.store.agent_models import AgentApproval
from aigora.store.db import session_scope


@dataclass(frozen=True)
class Approval:
    id: int
    wallet_id: int
    intent: AnyIntent
    reason: str
    status: str
    tx_hash: str | None


def _row(row: AgentApproval) -> Approval:
    return Approval(
        row.id, row.wallet_id, parse_intent(row.intent_json), row.reason, row.status, row.tx_hash
    )


class ApprovalQueue:
    """The approvals of one wallet (`wallet_id` in `agent_wallets`)."""

    def __init__(self, db: Engine, wallet_id: int) -> None:
        self.db = db
        self.wallet_id = wallet_id

    def add(self, intent: AnyIntent, reason: str) -> int:
        with session_scope(self.db) as session:
            row = AgentApproval(
                wallet_id=self.wallet_id,
                intent_json=intent.model_dump_json(),
                reason=reason,
                status="pending",
                created_at=datetime.now(UTC),
            )
            session.add(row)
            session.flush()
            return row.id

    def list(self, status: str | None = "pending") -> list[Approval]:
        with session_scope(self.db) as session:
            query = select(AgentApproval).where(AgentApproval.wallet_id == self.wallet_id)
            if status is not None:
                query = query.where(AgentApproval.status == status)
            return [_row(r) for r in session.scalars(query.order_by(AgentApproval.id))]

    def get(self, approval_id: int) -> Approval:
        with session_scope(self.db) as session:
            row = session.get(AgentApproval, approval_id)
            if row is None or row.wallet_id != self.wallet_id:
                raise ApprovalError(f"no approval {approval_id} for this wallet")
            return _row(row)

    def decide(self, approval_id: int, status: str, tx_hash: str | None = None) -> None:
        with session_scope(self.db) as session:
            row = session.get(AgentApproval, approval_id)
            if row is None or row.wallet_id != self.wallet_id:
                raise ApprovalError(f"no approval {approval_id} for this wallet")
            if row.status != "pending":
                raise ApprovalError(f"approval {approval_id} was already {row.status}")
            row.status = status
            row.tx_hash = tx_hash
            row.decided_at = datetime.now(UTC)
