"""vLLM in this process (``kind: vllm``): generation on a CUDA GPU without running a server. Requests that
arrive together go to one ``LLM.chat`` call (see BatchedBackend), where vLLM's continuous batching and
paged attention make a batch of hundreds cost little more than one request."""

from __future__ import annotations

from typing import Any

from medadapt.llm.backend import ChatRequest, Completion
from medadapt.llm.batched import BatchedBackend
from medadapt.llm.errors import LLMError
from medadapt.models.loading import remote_code
from medadapt.models.registry import resolve_model
from medadapt.models.templates import ChatTemplate, prepare_chat_tokenizer

NOT_INSTALLED = "vLLM is not installed: pip install vllm (needs a CUDA GPU); or use kind: local or kind: openai"


def import_vllm() -> Any:
    try:
        import vllm
    except ModuleNotFoundError as exc:
        if exc.name != "vllm":  # installed, but something it needs is missing: that message is the useful one
            raise
        raise LLMError(NOT_INSTALLED, field="generate.backend.kind") from None
    return vllm


def completion_of(output: Any) -> Completion:
    """A Completion from one vLLM ``RequestOutput`` (its first sample), with token usage."""
    sample = output.outputs[0]
    return Completion(text=sample.text.strip(), finish_reason="length" if sample.finish_reason == "length" else "stop",
                      prompt_tokens=len(output.prompt_token_ids), completion_tokens=len(sample.token_ids))


class VLLMBackend(BatchedBackend):
    kind = "vllm"

    def __init__(self, model: str, batch_size: int, chat_template: ChatTemplate | None = None,
                 trust_remote_code: bool = False):
        self._vllm = import_vllm()
        super().__init__(batch_size)
        self.model = model
        source = resolve_model(model)
        self._llm = self._vllm.LLM(model=source, **remote_code(source, trust_remote_code))
        tokenizer = prepare_chat_tokenizer(self._llm.get_tokenizer(), chat_template, model)
        # Both go with every call instead of only onto the tokenizer: the template so that no vLLM version's own
        # template lookup wins, the end-of-turn token because vLLM reads the tokenizer's eos once, at load.
        self._chat_template: str = tokenizer.chat_template
        self._stop = [chat_template.eos_token] if chat_template and chat_template.eos_token else None

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """One ``LLM.chat`` call for the batch; all requests share max_tokens and temperature."""
        first = requests[0]
        sampling = self._vllm.SamplingParams(max_tokens=first.max_tokens, temperature=first.temperature,
                                             stop=self._stop)
        outputs = self._llm.chat([r.message_dicts() for r in requests], sampling_params=sampling,
                                 chat_template=self._chat_template, use_tqdm=False)
        return [completion_of(output) for output in outputs]
