"""The web console and HTTP API: chat, approvals, runs, audit, evals, health, metrics, an ingest webhook.

``create_app(settings)`` builds the FastAPI app; ``switchboard serve`` runs it with uvicorn. Access rules are
in ``console.deps``.
"""

from console.app import create_app

__all__ = ["create_app"]
