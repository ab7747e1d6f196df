"""Deterministic flow functions, one package per stage.

The stages: ingest, rules, reports, export, delivery, sales, operations and the demo. May import: core; every
stage also reads ``flows.config``, the flows' settings. Nothing here imports tools, the agent, LangGraph, FastAPI
or Telegram code: every flow can run and be tested with no language model, no web server and no bot in sight.
"""
