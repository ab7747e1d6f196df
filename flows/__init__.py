"""Deterministic flow functions and the storage they run on.

Nothing in this package imports LangGraph, FastAPI or Telegram code: every flow can run and be tested with no
language model, no web server and no bot in sight.
"""
