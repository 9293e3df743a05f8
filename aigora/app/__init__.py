"""The application layer: every use case of a node, written once.

One service per feature, each over the node's context (`open_node`, `open_chain_view` or, for
use cases that need no chain, `open_store`), with one method per use case taking typed arguments
and returning a typed result (pydantic models, so the HTTP API returns them as they are and the
CLI reads them back from a running node unchanged):

    app = App(open_node(data_dir, passphrase))
    answer = app.answers.answer("which car?", k=5, by_operator=True)  # -> Answer
    report = app.disputes.challenge(document, source=None, dry_run=True)  # -> ChallengeResult
    epoch = app.payouts.close()                                        # -> EpochReport

Rules stay in the feature packages as pure functions (`aigora.verify`, `aigora.payouts`, ...);
services compose them with I/O (database, chain, files). The CLI commands and the HTTP routers
are adapters: parse input, call one method here, render the result.
"""

from aigora.app._agents import Agents, AgentView, RunReport
from aigora.app._answers import (
    ENGINE_VERSION,
    Answer,
    Answers,
    AnswerSource,
    NoSnapshot,
    PaymentRequired,
    VerdictReport,
    check_ask_allowed,
    parse_model_root,
    plan_on_chain,
    public_sources,
    verify_on_chain,
    verify_over_rpc,
)
from aigora.app._app import App
from aigora.app._config import (
    CONFIG_FILE,
    DEFAULT_PORT,
    Config,
    database_url,
    load_config,
    resolve_data_dir,
    write_default_config,
)
from aigora.app._content import (
    MAX_BODY_BYTES,
    AnchoredNow,
    AnchorList,
    Content,
    ContentView,
    PayloadTooLarge,
    Published,
    RecordedItem,
    ScorePoint,
    SigningInfo,
    UrlMatches,
)
from aigora.app._context import (
    BURN_ADDRESS,
    NODE_FILE,
    OPERATOR_TOKEN_FILE,
    NeedsOperatorKey,
    NodeContext,
    NodeNotStarted,
    NoNode,
    StoreContext,
    keystore_for,
    node_url,
    open_chain_view,
    open_node,
    open_store,
    operator_token,
    prepare_data_dir,
    recorded_addresses,
    remove_operator_token,
    running_node_url,
    signing_domain,
    write_operator_token,
)
from aigora.app._dispute_state import (
    KIND_NAMES,
    STATUS_NAMES,
    DisputeState,
    dispute_state,
    game_state,
)
from aigora.app._disputes import (
    ChallengeResult,
    Disputes,
    NoDisputes,
    file_claim,
    rebut_omissions,
    resolve,
)
from aigora.app._games import Move, challenger_move, operator_move, play_games
from aigora.app._labels import (
    AnswerAccepted,
    JobInfo,
    LabelExport,
    Labels,
    NextTask,
    NoBounties,
    PostedJob,
    escrow_state,
    release_escrow,
)
from aigora.app._payouts import (
    ClaimReport,
    Earnings,
    EpochReport,
    NoDistributor,
    Payouts,
    earnings_of,
)
from aigora.app._reputation import Reputation, RunList
from aigora.app._snapshots import SnapshotInfo, SnapshotList, Snapshots
from aigora.app._status import ChainStatus, OperatorListing, chain_status, registered_operators

__all__ = [
    "BURN_ADDRESS",
    "CONFIG_FILE",
    "DEFAULT_PORT",
    "ENGINE_VERSION",
    "KIND_NAMES",
    "MAX_BODY_BYTES",
    "NODE_FILE",
    "OPERATOR_TOKEN_FILE",
    "STATUS_NAMES",
    "AgentView",
    "Agents",
    "AnchorList",
    "AnchoredNow",
    "Answer",
    "AnswerAccepted",
    "AnswerSource",
    "Answers",
    "App",
    "ChainStatus",
    "ChallengeResult",
    "ClaimReport",
    "Config",
    "Content",
    "ContentView",
    "DisputeState",
    "Disputes",
    "Earnings",
    "EpochReport",
    "JobInfo",
    "LabelExport",
    "Labels",
    "Move",
    "NeedsOperatorKey",
    "NextTask",
    "NoBounties",
    "NoDisputes",
    "NoDistributor",
    "NoNode",
    "NoSnapshot",
    "NodeContext",
    "NodeNotStarted",
    "OperatorListing",
    "PayloadTooLarge",
    "PaymentRequired",
    "Payouts",
    "PostedJob",
    "Published",
    "RecordedItem",
    "Reputation",
    "RunList",
    "RunReport",
    "ScorePoint",
    "SigningInfo",
    "SnapshotInfo",
    "SnapshotList",
    "Snapshots",
    "StoreContext",
    "UrlMatches",
    "VerdictReport",
    "chain_status",
    "challenger_move",
    "check_ask_allowed",
    "database_url",
    "dispute_state",
    "earnings_of",
    "escrow_state",
    "file_claim",
    "game_state",
    "keystore_for",
    "load_config",
    "node_url",
    "open_chain_view",
    "open_node",
    "open_store",
    "operator_move",
    "operator_token",
    "parse_model_root",
    "plan_on_chain",
    "play_games",
    "prepare_data_dir",
    "public_sources",
    "rebut_omissions",
    "recorded_addresses",
    "registered_operators",
    "release_escrow",
    "remove_operator_token",
    "resolve",
    "resolve_data_dir",
    "running_node_url",
    "signing_domain",
    "verify_on_chain",
    "verify_over_rpc",
    "write_default_config",
    "write_operator_token",
]
