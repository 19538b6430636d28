"""Benchmarks (`make bench`): retrieval, change impact, desktop. Outside the installed apps."""
