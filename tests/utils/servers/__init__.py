"""Loopback protocol servers for the test suite."""
