"""Alembic's entry point for the core schema; ``core.store.migrate.upgrade`` runs it with its connection."""

from core.store.migrate import run_environment

run_environment()
