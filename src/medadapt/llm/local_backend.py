"""A transformers model on this machine, for offline work: left-padded batches of requests that arrived
together (see BatchedBackend)."""

from __future__ import annotations

from typing import Any

from medadapt.llm.backend import ChatRequest, Completion
from medadapt.llm.batched import BatchedBackend


class LocalBackend(BatchedBackend):
    kind = "local"

    def __init__(self, model: str, batch_size: int, chat_template: Any = None, trust_remote_code: bool = False):
        from medadapt.models.chat import load_chat_model

        super().__init__(batch_size)
        self.model = model
        self._model, self._tokenizer = load_chat_model(model, chat_template=chat_template,
                                                       trust_remote_code=trust_remote_code)

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """One batched ``generate`` call; all requests share max_tokens and temperature."""
        import torch

        tokenizer, model = self._tokenizer, self._model
        prompts = [tokenizer.apply_chat_template(r.message_dicts(), tokenize=False, add_generation_prompt=True)
                   for r in requests]
        encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        width = max(len(ids) for ids in encoded)
        pad_id = tokenizer.pad_token_id
        ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, tokens in enumerate(encoded):  # left padding: every answer starts at the same column
            ids[row, width - len(tokens):] = torch.tensor(tokens)
            mask[row, width - len(tokens):] = 1
        first = requests[0]
        sampling = {"do_sample": True, "temperature": first.temperature} if first.temperature > 0 else {"do_sample": False}
        device = next(model.parameters()).device
        with torch.inference_mode():
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), max_new_tokens=first.max_tokens,
                                 pad_token_id=pad_id, eos_token_id=tokenizer.eos_token_id, **sampling)
        completions = []
        for row, tokens in enumerate(encoded):
            new = out[row, width:].tolist()
            ended = tokenizer.eos_token_id in new
            used = new[: new.index(tokenizer.eos_token_id) + 1] if ended else new
            completions.append(Completion(text=tokenizer.decode(used, skip_special_tokens=True).strip(),
                                          finish_reason="stop" if ended else "length",
                                          prompt_tokens=len(tokens), completion_tokens=len(used)))
        return completions
