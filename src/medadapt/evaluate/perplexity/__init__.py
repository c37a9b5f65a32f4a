"""Perplexity and bits per byte: held-out text scored with lm-evaluation-harness's rolling windows, and answers
scored given their question in the chat template the model was trained with."""
