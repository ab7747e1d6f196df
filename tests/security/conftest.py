"""The adversarial suite's plumbing: the bound check after every case.

The summary table at the end is ``tests/utils/security_summary.py``, a plugin of the root conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.bounds import check_new_audit


@pytest.fixture(autouse=True)
def _audit_stays_bounded() -> Iterator[None]:
    """After every case: no audit record appended on any watched engine exceeds the documented bounds."""
    yield
    check_new_audit()
