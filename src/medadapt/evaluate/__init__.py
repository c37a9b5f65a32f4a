"""Evaluation: multiple-choice benchmarks scored by log-likelihood, per subject and language."""
