"""Imports every table module so ``SQLModel.metadata`` knows the whole schema before ``create_all``."""

from flows.store import approvals, audit, models, runs, users  # noqa: F401
