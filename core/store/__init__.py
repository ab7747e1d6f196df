"""Storage: engine and sessions, the tables, the run store, the hash-chained audit log, users and approvals.

May import: core (errors, vocabulary, locks). ``schema.init_db`` creates or migrates the whole schema with the
Alembic revisions in migrations/.
"""
