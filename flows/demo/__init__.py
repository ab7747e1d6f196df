"""The demo distributor: generated customers, products and orders, and sample inbox files.

May import: core.
"""
