"""Eval-suite fixtures."""

from __future__ import annotations

import pytest

from tests.evals.fakes import make_registry
from tools.registry import Registry


@pytest.fixture
def registry() -> Registry:
    """Three tools, one per risk."""
    return make_registry()
