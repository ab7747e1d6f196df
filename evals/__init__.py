"""Offline evaluation suite."""
