"""Tables for guarded agents: the wallets an owner created and the approvals waiting on the owner.

A wallet row records the mandate in the owner's words and the policy it compiled to (canonical
JSON, amounts as decimal strings) as confirmed. An approval is an intent the agent was not allowed
to carry out; it stays `pending` until the owner approves (and it is executed) or rejects it, so
nothing out of policy is silently dropped.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aigora.store._types import UTCDateTime
from aigora.store.models import Base

APPROVAL_STATUSES = ("pending", "approved", "rejected")
APPROVAL_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s}'" for s in APPROVAL_STATUSES))


class AgentWallet(Base):
    """A deployed PolicyWallet, its owner and agent, and the policy last set on it."""

    __tablename__ = "agent_wallets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(42), unique=True)
    owner: Mapped[str] = mapped_column(String(42))
    agent: Mapped[str] = mapped_column(String(42))
    agent_key: Mapped[str] = mapped_column(String(64))
    mandate: Mapped[str] = mapped_column(Text)
    policy_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentApproval(Base):
    """An intent outside the policy, waiting for the owner."""

    __tablename__ = "agent_approvals"
    __table_args__ = (CheckConstraint(APPROVAL_STATUS_CHECK, name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("agent_wallets.id"), index=True)
    intent_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
