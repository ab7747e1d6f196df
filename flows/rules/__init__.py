"""Business rules kept in config: normalize (cleaning), VIP tiering and credit hold, with dry runs.

May import: core, flows.ingest.rows (which columns a dataset has), flows.reports.sources (revenue, and the rollups' sums).
"""
