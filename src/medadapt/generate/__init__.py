"""LLM-made training data: translation with self-scoring and refinement, answer expansion, QA generation and
quality judging, through any OpenAI-compatible endpoint or a local model, cached per request and resumable."""
