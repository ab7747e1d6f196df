"""Sales: find customers, quote prices with the bulk_discount ruleset, create orders.

May import: core.
"""
