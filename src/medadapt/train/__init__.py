"""Training: stage-2 LoRA SFT with an assistant-only loss mask built from the model's chat template."""
