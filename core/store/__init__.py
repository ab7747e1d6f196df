"""Storage: engine and sessions, the tables, the run store, the hash-chained audit log, users and approvals.

May import: core (errors, vocabulary, locks). ``schema.init_db`` creates the whole schema.
"""
