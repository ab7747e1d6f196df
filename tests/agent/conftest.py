"""The agent tests' shared fixtures."""

from tests.utils.embedded import backend, db_backend  # noqa: F401  (fixtures, found by name)
