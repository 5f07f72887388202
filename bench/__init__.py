"""Benchmarks: each script prints its figures (medians, beside a baseline)."""
