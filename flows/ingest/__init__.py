"""Ingest: bring a CSV, XLSX or JSON file from the inbox (or a posted body) into customers, products or orders.

``pipeline`` runs a whole ingest in one transaction; ``readers`` stream rows out of a file, within ``limits``;
``rows`` declares what a row of each dataset must hold; ``load`` validates, bulk-inserts and quarantines; ``inbox``
keeps reads inside the inbox. May import: core.
"""
