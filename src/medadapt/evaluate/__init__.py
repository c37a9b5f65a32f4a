"""Evaluation, one sub-package per kind (``mcqa``: multiple-choice benchmarks; ``freeform``: timed answers,
judge and K-QA checks), the stage that runs them in turn, and what the kinds share (metrics, translator)."""
