"""The report: tables and plots assembled from each stage's outputs (HTML + Markdown)."""
