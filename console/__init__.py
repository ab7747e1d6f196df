"""The web console and HTTP API: chat, approvals, runs, audit, evals, health, metrics, an ingest webhook.

``console.app.create_app(settings)`` builds the FastAPI app; ``switchboard serve`` runs it with uvicorn. Access
rules are in ``console.deps``. Nothing is imported here, so reading ``console.config`` stays cheap.
"""
