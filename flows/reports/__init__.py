"""Reports: the catalogue of six reports, the aggregate SQL behind them, and their PNG charts.

May import: core.
"""
