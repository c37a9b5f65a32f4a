"""Log-likelihood of documents, the same numbers as lm-evaluation-harness with less work.

Text: lm-eval's ``loglikelihood_rolling`` (``utils.get_rolling_token_windows`` with ``context_len=1``, then
``make_disjoint_window``, scored as ``HFLM._loglikelihood_tokens`` does): the text encoded as ``HFLM.tok_encode``
encodes it (the tokenizer's own special tokens unless the text already starts with the prefix token), the
first window predicts its first ``max_length`` tokens after the prefix token (BOS, else EOS), and each next
window feeds the ``max_length`` tokens before its end and predicts the tokens the previous ones left.

Conversation: the assistant tokens (``medadapt.models.chat.tokenize_chat``'s mask: the turns' text and the
template's end-of-turn markup), each predicted from everything before it in the rendered conversation.

What makes it cheaper than lm-eval: the output layer runs only at scored positions, a few at a time, so the
(positions × vocabulary) logits never exist for a whole batch (with a 262k vocabulary that is most of the
cost and memory); sequences are sorted by length and right-padded without a mask, which causal attention
makes exact. lm-eval's windows with ``context_len=1`` share no context (each restarts from its own first
token), so no key/value cache can be reused between them without changing the numbers, and none is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from medadapt.evaluate.perplexity.documents import Document
from medadapt.runs.processes import merged, shard

#: Scored positions per projection through the output layer (262k-vocabulary rows: ~130 MB of fp32 logits).
POSITIONS_PER_CHUNK = 128
#: Logit scalings some families apply after the output layer; such a model is scored through its own forward.
SCALED_LOGITS = ("logit_scale", "output_multiplier", "lm_head_multiplier", "logits_scaling")


@dataclass(frozen=True)
class Sequence:
    """One forward pass's input, and the positions whose logits predict ``targets``."""

    document: int
    ids: list[int]
    positions: list[int]
    targets: list[int]


def rolling_windows(tokens: list[int], prefix_token: int, max_length: int) -> Iterator[tuple[list[int], list[int]]]:
    """(context, continuation) pairs as lm-eval's disjoint rolling windows with ``context_len=1``."""
    if not tokens:
        return
    first = min(max_length, len(tokens))
    yield [prefix_token], tokens[:first]
    predicted = first
    while predicted < len(tokens):
        length = min(len(tokens) - predicted, max_length)
        end = predicted + length
        window = tokens[end - max_length - 1: end - 1]
        yield window[: len(window) - (length - 1)], tokens[end - length: end]
        predicted += length


def prefix_token(tokenizer: Any) -> int:
    """lm-eval's ``HFLM.prefix_token_id``: BOS, else EOS."""
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def encode_text(tokenizer: Any, text: str) -> list[int]:
    """lm-eval's ``HFLM.tok_encode`` for a causal model without ``add_bos_token``."""
    starts_with_prefix = text.startswith(tokenizer.decode(prefix_token(tokenizer)))
    return tokenizer.encode(text, **({"add_special_tokens": False} if starts_with_prefix else {}))


def text_sequences(index: int, tokens: list[int], prefix: int, max_length: int) -> list[Sequence]:
    """The passes lm-eval's ``_loglikelihood_tokens`` makes for the rolling windows of one document."""
    sequences = []
    for context, continuation in rolling_windows(tokens, prefix, max_length):
        ids = (context + continuation)[-(max_length + 1):][:-1]
        start = len(ids) - len(continuation)
        sequences.append(Sequence(index, ids, list(range(start, len(ids))), continuation))
    return sequences


def answer_sequence(index: int, input_ids: list[int], mask: list[int]) -> Sequence:
    """The assistant tokens of a tokenised conversation, each predicted from the position before it."""
    scored = [i for i in range(1, len(input_ids)) if mask[i]]
    return Sequence(index, input_ids[:-1], [i - 1 for i in scored], [input_ids[i] for i in scored])


def model_max_length(model: Any, tokenizer: Any, default: int = 2048) -> int:
    """lm-eval's ``resolve_max_length``: the text config's length, else the tokenizer's, else ``default``."""
    config = model.config.get_text_config()
    for name in ("n_positions", "max_position_embeddings", "n_ctx"):
        if getattr(config, name, None):
            return int(getattr(config, name))
    length = getattr(tokenizer, "model_max_length", None)
    return int(length) if length and length < 10**9 else default


def _log_probs(model: Any) -> Callable[[Any, list[list[int]], list[list[int]]], list[Any]]:
    """Per row, the log-probabilities of its targets at its positions, computing the output layer only there."""
    import torch

    config = model.config.get_text_config()
    softcap = getattr(config, "final_logit_softcapping", None)
    own_forward = any(getattr(config, name, None) is not None for name in SCALED_LOGITS)
    head = model.get_output_embeddings()

    def score(ids: Any, positions: list[list[int]], targets: list[list[int]]) -> list[Any]:
        rows = torch.tensor([r for r, row in enumerate(positions) for _ in row])
        cols = torch.tensor([p for row in positions for p in row])
        wanted = torch.tensor([t for row in targets for t in row])
        if own_forward:  # exact whatever the family does to its logits, at the cost of the whole logits
            logits = model(input_ids=ids).logits[rows, cols].float()
            picked = torch.log_softmax(logits, -1).gather(1, wanted[:, None].to(logits.device))[:, 0]
        else:
            hidden = model.base_model(input_ids=ids).last_hidden_state[rows, cols]
            parts = []
            for start in range(0, len(wanted), POSITIONS_PER_CHUNK):
                logits = head(hidden[start: start + POSITIONS_PER_CHUNK]).float()
                if softcap is not None:
                    logits = torch.tanh(logits / softcap) * softcap
                chunk = wanted[start: start + POSITIONS_PER_CHUNK].to(logits.device)
                parts.append(torch.log_softmax(logits, -1).gather(1, chunk[:, None])[:, 0])
            picked = torch.cat(parts)
        return list(picked.cpu().split([len(row) for row in positions]))

    return score


def score_sequences(model: Any, sequences: list[Sequence], batch_size: int, pad_id: int,
                    advance: Callable[[int], None] = lambda n: None) -> dict[int, tuple[float, int]]:
    """Per document: (summed log-likelihood of its targets, how many tokens were scored). Under a multi-process
    launch each process scores a share of the batches (those one process makes) and every process gets every
    document's totals, summed in one process's order: the same numbers."""
    import torch

    device = next(model.parameters()).device
    score = _log_probs(model)
    ordered = sorted(sequences, key=lambda s: -len(s.ids))
    mine = shard([ordered[start: start + batch_size] for start in range(0, len(ordered), batch_size)])
    scored: list[tuple[int, float, int]] = []  # (document, log-likelihood, tokens) per sequence, in batch order
    with torch.inference_mode():
        for whole in mine:
            batch = [s for s in whole if s.targets]
            if batch:
                ids = torch.full((len(batch), len(batch[0].ids)), pad_id, dtype=torch.long)
                for row, sequence in enumerate(batch):
                    ids[row, : len(sequence.ids)] = torch.tensor(sequence.ids)
                picked = score(ids.to(device), [s.positions for s in batch], [s.targets for s in batch])
                scored += [(s.document, float(values.double().sum()), len(values)) for s, values in zip(batch, picked)]
            advance(len(whole))
    everyone = merged(scored)
    advance(len(ordered) - sum(map(len, mine)))  # the other processes' share
    totals: dict[int, list[float]] = {}
    for document, loglikelihood, tokens in everyone:
        total = totals.setdefault(document, [0.0, 0])
        total[0] += loglikelihood
        total[1] += tokens
    return {document: (total[0], int(total[1])) for document, total in totals.items()}


def document_sequences(tokenizer: Any, documents: list[Document], max_length: int) -> tuple[list[Sequence], dict[int, str]]:
    """Every document's passes, and why the ones that cannot be scored are not (a conversation longer than
    ``max_length`` tokens, one with no assistant token)."""
    from medadapt.models.chat import tokenize_chat

    prefix = prefix_token(tokenizer)
    sequences: list[Sequence] = []
    problems: dict[int, str] = {}
    for index, document in enumerate(documents):
        if document.kind == "text":
            sequences += text_sequences(index, encode_text(tokenizer, document.text), prefix, max_length)
            continue
        tokens = tokenize_chat(tokenizer, list(document.messages))
        if len(tokens["input_ids"]) > max_length:
            problems[index] = f"the conversation is {len(tokens['input_ids'])} tokens, over max_length {max_length}"
        elif 1 not in tokens["assistant_masks"][1:]:
            problems[index] = "no assistant token to score"
        else:
            sequences.append(answer_sequence(index, tokens["input_ids"], tokens["assistant_masks"]))
    return sequences, problems
