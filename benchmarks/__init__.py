"""Benchmarks for the course: run ``python -m benchmarks`` (``--help`` for the options)."""
