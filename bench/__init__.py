"""Benchmarks: `python -m bench.imap` and friends, each printing results and ratios."""
