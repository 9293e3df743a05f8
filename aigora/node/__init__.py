"""The node: the FastAPI application over the application layer (`aigora.app`), its routers and
pages, and the server that runs it with its background jobs (anchoring, snapshots, disputes)."""

from aigora.node.app import create_app
from aigora.node.errors import Error, status_for
from aigora.node.runner import serve

__all__ = [
    "NODE_FILE",
    "Error",
    "create_app",
    "node_url",
    "running_node_url",
    "serve",
    "status_for",
]
