"""Evaluation: retrieval metrics and runs, and the builders of the development sets (``onprem_bot/data/eval``)."""
