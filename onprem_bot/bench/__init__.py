"""Benchmarks (`onprem-bot bench ...`): speed figures, never asserted in tests."""
