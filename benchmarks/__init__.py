"""Benchmarks: speed and memory targets, measured with a same-run baseline where there is one."""
