"""Fake servers for tests and benchmarks."""
