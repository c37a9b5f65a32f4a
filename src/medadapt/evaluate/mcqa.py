"""Multiple-choice evaluation: log-likelihood of the choices (lm-evaluation-harness's method) or a generated
answer parsed into a choice, scored per subject and language."""

from __future__ import annotations

from typing import Any

from medadapt.data.records import MCQARecord
from medadapt.evaluate.metrics import summarise
from medadapt.evaluate.prompts import TARGET_DELIMITER
from medadapt.evaluate.requests import build_requests
from medadapt.evaluate.scoring import score_requests


def predict_loglik(
    model: Any, tokenizer: Any, records: list[MCQARecord], batch_size: int, label: str, style: str = "letters",
    fewshot: dict[str, list[MCQARecord]] | None = None, lm_eval: Any = None, chat: bool = False,
) -> list[dict[str, Any]]:
    """Per-question predictions: the choice of highest log-likelihood (lm-eval's ``acc``); for ``cloze`` the
    highest log-likelihood per character of the choice's text (lm-eval's ``acc_norm``: the text without the
    target delimiter), so long options are not penalised.

    ``lm_eval``: an lm-eval model to score the same requests with instead (a cross-check of the scorer).
    """
    requests = build_requests(tokenizer, records, style, fewshot, chat)
    if lm_eval is not None:
        from medadapt.evaluate.lm_eval_engine import lm_eval_scores

        scores = lm_eval_scores(lm_eval, requests)
    else:
        scores = score_requests(model, tokenizer, requests, batch_size, label)
    predictions = []
    for q, record in enumerate(records):
        loglik = [scores[q][i] for i in range(len(record.choices))]
        continuations = requests[q].text[1]
        ranked = ([ll / len(c.removeprefix(TARGET_DELIMITER)) for ll, c in zip(loglik, continuations)]
                  if style == "cloze" else loglik)
        pred = max(range(len(ranked)), key=ranked.__getitem__)
        predictions.append({
            "id": record.id, "lang": record.lang, "subject": record.subject, "answer": record.answer,
            "pred": pred, "correct": pred == record.answer, "loglik": [round(x, 4) for x in loglik],
        })
    return predictions


def evaluate_mcqa(
    model: Any, tokenizer: Any, records: list[MCQARecord], batch_size: int, label: str, style: str = "letters",
    fewshot: dict[str, list[MCQARecord]] | None = None, pass_mark: float | None = None, lm_eval: Any = None,
    chat: bool = False,
) -> tuple[dict, list[dict]]:
    """Scores (overall, macro over subjects, by subject, by language, CI, pass/fail) and predictions."""
    if style == "generate":
        from medadapt.evaluate.generative import predict_generative

        predictions = predict_generative(model, tokenizer, records, batch_size, label)
    else:
        predictions = predict_loglik(model, tokenizer, records, batch_size, label, style, fewshot, lm_eval, chat)
    return summarise(predictions, pass_mark), predictions
