"""Switchboard agent: graph, policy and backends."""
