"""One object per node with every service on it: what the HTTP API, the pages, the background
jobs and the CLI each hold."""

from aigora.app._agents import Agents
from aigora.app._answers import Answers
from aigora.app._asks import Asks
from aigora.app._content import Content
from aigora.app._context import NodeContext
from aigora.app._disputes import Disputes
from aigora.app._labels import Labels
from aigora.app._network import NetworkService
from aigora.app._payouts import Payouts
from aigora.app._reputation import Reputation
from aigora.app._snapshots import Snapshots
from aigora.app._status import ChainStatus, chain_status


class App:
    """The services of one open node. `answers` holds the engine and the current snapshot, which
    snapshots, disputes and payouts share (pass one to reuse a loaded engine)."""

    def __init__(self, context: NodeContext, answers: Answers | None = None) -> None:
        self.context = context
        self.answers = answers or Answers(context)
        self.snapshots = Snapshots(self.answers)
        self.disputes = Disputes(self.answers)
        self.asks = Asks(context)
        self.payouts = Payouts(self.answers, self.asks)
        self.labels = Labels(context)
        self.content = Content(context)
        self.reputation = Reputation(context, lambda: self.answers.governance.in_force()[1])
        self.agents = Agents(context)
        self.network = NetworkService(context)
        self.governance = self.answers.governance

    def chain_status(self) -> ChainStatus:
        """The chain, the contracts and the operator's standing."""
        context = self.context
        address = context.signer.address if context.signer else context.operator_address()
        return chain_status(context.chain, context.deployment, address)
