"""Score the same requests through lm-evaluation-harness's own `hf` model, to cross-check medadapt.

`medadapt eval mcqa --engine lm-eval` and `benchmarks/eval_mcqa.py` use it: same prompts, lm-eval's scoring,
so any difference in predictions is a difference in scoring, not in prompts. lm-eval is a test extra.
"""

from __future__ import annotations

from typing import Any

from medadapt.errors import ModelError
from medadapt.evaluate.mcqa.requests import Request


def lm_eval_model(model_dir: str, batch_size: int, device: str = "cpu", trust_remote_code: bool = False) -> Any:
    from medadapt.models.loading import remote_code

    try:
        from lm_eval.models.huggingface import HFLM
    except ImportError:
        raise ModelError("lm-eval is not installed; run: pip install 'medadapt[test]'", field="engine lm-eval") from None
    return HFLM(pretrained=model_dir, device=device, dtype="float32", batch_size=batch_size,
                **remote_code(model_dir, trust_remote_code))


def lm_eval_scores(lm: Any, requests: list[Request]) -> dict[int, dict[int, float]]:
    """Log-likelihood per question and choice from lm-eval's ``loglikelihood`` on the requests' own strings."""
    from lm_eval.api.instance import Instance

    instances, owners = [], []
    for request in requests:
        context, continuations = request.text
        for choice, continuation in enumerate(continuations):
            instances.append(Instance("loglikelihood", {}, (context, continuation), len(instances)))
            owners.append((request.question, choice))
    scores: dict[int, dict[int, float]] = {}
    for (question, choice), (loglik, _) in zip(owners, lm.loglikelihood(instances, disable_tqdm=True)):
        scores.setdefault(question, {})[choice] = loglik
    return scores
