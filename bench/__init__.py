"""Benchmarks (run with `make bench`). Kept free of imports: workflow modules live below this package."""
