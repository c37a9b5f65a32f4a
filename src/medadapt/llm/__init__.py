"""The inference layer every stage shares: backends (transformers here, vLLM in process, any OpenAI-compatible
endpoint), the per-request SQLite cache, batching, token streaming, budgets and prices. Stages ask models
through it and never through each other, so a stage that only reads answers need not load another stage."""
