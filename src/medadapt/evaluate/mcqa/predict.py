"""Multiple-choice evaluation: log-likelihood of the choices (lm-evaluation-harness's method) or a generated
answer parsed into a choice, scored per subject and language."""

from __future__ import annotations

from typing import Any

from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.metrics import summarise
from medadapt.evaluate.mcqa.prompts import TARGET_DELIMITER, PromptSet
from medadapt.evaluate.mcqa.requests import build_requests
from medadapt.evaluate.mcqa.scoring import score_requests


def predict_loglik(
    model: Any, tokenizer: Any, records: list[MCQARecord], batch_size: int, label: str, style: str = "letters",
    fewshot: dict[str, list[MCQARecord]] | None = None, lm_eval: Any = None, chat: bool = False,
    prompts: PromptSet | None = None,
) -> list[dict[str, Any]]:
    """Per-question predictions: the choice of highest log-likelihood (lm-eval's ``acc``); for ``cloze`` the
    highest log-likelihood per character of the choice's text (lm-eval's ``acc_norm``: the text without the
    target delimiter), so long options are not penalised.

    ``lm_eval``: an lm-eval model to score the same requests with instead (a cross-check of the scorer).
    Questions with several correct options are answered by greedy generation from the same context
    (``generative.py`` says why).
    """
    requests = build_requests(tokenizer, records, style, fewshot, chat, prompts)
    single = [r for r in requests if records[r.question].answers is None]
    if lm_eval is not None:
        from medadapt.evaluate.mcqa.lm_eval_engine import lm_eval_scores

        scores = lm_eval_scores(lm_eval, single)
    else:
        scores = score_requests(model, tokenizer, single, batch_size, label)
    multi = [r for r in requests if records[r.question].answers is not None]
    generated = _multi_answers(model, tokenizer, records, multi, batch_size, label, chat)
    predictions = []
    for q, record in enumerate(records):
        if q in generated:
            predictions.append(generated[q])
            continue
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


def _multi_answers(model: Any, tokenizer: Any, records: list[MCQARecord], requests: list[Any], batch_size: int,
                   label: str, chat: bool) -> dict[int, dict[str, Any]]:
    """Question index → prediction of each multi-answer question, generated from its request's context."""
    if not requests:
        return {}
    from medadapt.evaluate.mcqa.generative import generate_texts, multi_answer_prediction

    responses = generate_texts(model, tokenizer, [r.text[0] for r in requests], batch_size, f"{label} · multi-answer",
                               add_special_tokens=not chat)
    return {r.question: multi_answer_prediction(records[r.question], response)
            for r, response in zip(requests, responses)}


def evaluate_mcqa(
    model: Any, tokenizer: Any, records: list[MCQARecord], batch_size: int, label: str, style: str = "letters",
    fewshot: dict[str, list[MCQARecord]] | None = None, pass_mark: float | None = None, lm_eval: Any = None,
    chat: bool = False, prompts: PromptSet | None = None,
) -> tuple[dict, list[dict]]:
    """Scores (overall, macro over subjects, by subject, by language, CI, pass/fail) and predictions."""
    if style == "generate":
        from medadapt.evaluate.mcqa.generative import predict_generative

        predictions = predict_generative(model, tokenizer, records, batch_size, label, prompts)
    else:
        predictions = predict_loglik(model, tokenizer, records, batch_size, label, style, fewshot, lm_eval, chat,
                                     prompts)
    return summarise(predictions, pass_mark), predictions
