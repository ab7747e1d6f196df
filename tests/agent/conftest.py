"""The agent tests' shared fixtures."""

from tests.utils.embedded import backend  # noqa: F401  (a fixture, found by name)
