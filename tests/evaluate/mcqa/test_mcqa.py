from __future__ import annotations

import math

import pytest

from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.predict import evaluate_mcqa
from medadapt.evaluate.metrics import mean_stderr
from reference_scoring import build_rows, score_rows
from medadapt.evaluate.mcqa.prompts import mcqa_prompt

RECORDS = [
    MCQARecord(id=f"q{i}", source="t", lang=lang, subject=subject, question=question,
               choices=["Aspirin", "Insulin", "Metformin", "Vitamin D"], answer=i % 4)
    for i, (lang, subject, question) in enumerate([
        ("en", "pharmacology", "Which drug lowers blood glucose by injection?"),
        ("en", "pharmacology", "Which drug is an antiplatelet?"),
        ("en", "physiology", "Which hormone is made by beta cells?"),
        ("fa", "physiology", "کدام هورمون قند خون را کاهش می‌دهد؟"),
        ("fa", "public_health", "کمبود کدام ویتامین در زمستان شایع است؟"),
    ])
]


def test_prompt_follows_lm_eval_mmlu_layout():
    context, continuations = mcqa_prompt(RECORDS[0])
    assert context == (
        "The following are multiple choice questions (with answers) about pharmacology.\n\n"
        "Which drug lowers blood glucose by injection?\nA. Aspirin\nB. Insulin\nC. Metformin\nD. Vitamin D\nAnswer:"
    )
    assert continuations == [" A", " B", " C", " D"]
    assert mcqa_prompt(RECORDS[3])[0].endswith("پاسخ:")


def test_loglik_equals_a_direct_forward_pass(tiny_inference):
    """The score of a choice is log P(continuation | context), summed over its tokens."""
    import torch

    model, tok = tiny_inference
    context, continuations = mcqa_prompt(RECORDS[1])
    scores = score_rows(model, tok, build_rows(tok, RECORDS[1:2], share_prompt=False), 4, "t")[0]
    for choice, cont in enumerate(continuations):
        ctx_ids = tok(context)["input_ids"]
        cont_ids = tok(context + cont)["input_ids"][len(ctx_ids):]
        with torch.no_grad():
            logits = model(torch.tensor([ctx_ids + cont_ids])).logits[0]
        logprobs = torch.log_softmax(logits.float(), -1)
        expected = sum(float(logprobs[len(ctx_ids) - 1 + j, t]) for j, t in enumerate(cont_ids))
        assert scores[choice] == pytest.approx(expected, abs=1e-4)


def test_shared_prompt_matches_one_pass_per_choice(tiny_inference):
    model, tok = tiny_inference
    shared = build_rows(tok, RECORDS)
    reference = build_rows(tok, RECORDS, share_prompt=False)
    assert len(shared) < len(reference) or all(len(r.targets) == 1 for r in shared)
    a = score_rows(model, tok, shared, 2, "shared")
    b = score_rows(model, tok, reference, 2, "reference")
    for q in range(len(RECORDS)):
        assert [a[q][c] for c in range(4)] == pytest.approx([b[q][c] for c in range(4)], abs=1e-4)


def test_scores_do_not_depend_on_batch_size(tiny_inference):
    model, tok = tiny_inference
    one, _ = evaluate_mcqa(model, tok, RECORDS, batch_size=1, label="b1")
    many, preds_many = evaluate_mcqa(model, tok, RECORDS, batch_size=5, label="b5")
    _, preds_one = evaluate_mcqa(model, tok, RECORDS, batch_size=1, label="b1")
    assert one == many
    for p, q in zip(preds_one, preds_many):
        assert p["loglik"] == pytest.approx(q["loglik"], abs=1e-3)


def test_metrics_by_subject_language_and_macro(tiny_inference):
    model, tok = tiny_inference
    metrics, predictions = evaluate_mcqa(model, tok, RECORDS, batch_size=4, label="t")
    correct = [float(p["correct"]) for p in predictions]
    assert metrics["n"] == 5 and metrics["acc"] == round(sum(correct) / 5, 4)
    assert set(metrics["by_subject"]) == {"pharmacology", "physiology", "public_health"}
    assert metrics["by_lang"]["fa"]["n"] == 2
    subject_accs = [v["acc"] for v in metrics["by_subject"].values()]
    assert metrics["macro_acc"] == round(sum(subject_accs) / 3, 4)
    for p, record in zip(predictions, RECORDS):
        assert p["pred"] == max(range(4), key=lambda i: p["loglik"][i]) and p["answer"] == record.answer


def test_mean_stderr_matches_sample_formula():
    values = [1.0, 0.0, 1.0, 1.0]
    assert mean_stderr(values) == pytest.approx(math.sqrt(0.25 / 4))  # sample sd 0.5, n 4
    assert mean_stderr([1.0]) == 0.0


def test_cloze_scores_option_text_and_normalises_like_lm_eval_acc_norm(tiny_inference):
    model, tok = tiny_inference
    context, continuations = mcqa_prompt(RECORDS[0], "cloze")
    assert "A. Aspirin" not in context and context.endswith("injection?\nAnswer:")
    assert continuations == [" Aspirin", " Insulin", " Metformin", " Vitamin D"]
    metrics, predictions = evaluate_mcqa(model, tok, RECORDS, batch_size=3, label="cloze", style="cloze")
    for record, p in zip(RECORDS, predictions):
        # lm-eval: argmax(lls / completion_len), completion_len = len(choice) in characters, no delimiter
        per_char = [ll / len(choice.strip()) for ll, choice in zip(p["loglik"], record.choices)]
        assert p["pred"] == max(range(len(per_char)), key=lambda i: per_char[i])
    rows = build_rows(tok, RECORDS, "cloze")
    assert len(rows) == 4 * len(RECORDS)  # multi-token options: one pass per choice
