"""Storage: engine factory, table models, the run store and the hash-chained audit log."""
