"""The evaluation harness: a gold set, deterministic metrics and CI thresholds (`python -m evals`)."""
