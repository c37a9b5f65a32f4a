"""Training: stage 1 (continued pretraining on packed text), stage 2 (SFT with an assistant-only loss mask
built from the model's chat template), merging, resumable checkpoints, dry-run planning, multi-GPU wiring."""
