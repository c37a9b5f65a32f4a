"""Serving: terminal chat with a run's trained model."""
