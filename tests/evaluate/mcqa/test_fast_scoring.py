"""The fast scorer (KV-cached prefixes and contexts, batched continuations) returns the reference method's numbers."""

from __future__ import annotations

import pytest

from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.requests import build_requests, fewshot_block, select_fewshot
from medadapt.evaluate.mcqa.scoring import score_requests
from reference_scoring import score_requests_naively

POOL = [
    MCQARecord(id=f"r{i}", source="t", lang=lang, subject=subject, question=question,
               choices=["Aspirin", "Insulin", "Metformin", "Vitamin D"], answer=i % 4)
    for i, (lang, subject, question) in enumerate([
        ("en", "pharmacology", "Which drug lowers blood glucose by injection?"),
        ("en", "pharmacology", "Which drug is an antiplatelet?"),
        ("en", "pharmacology", "Which is a biguanide?"),
        ("en", "physiology", "Which hormone is made by beta cells?"),
        ("en", "physiology", "Which vitamin is made in the skin?"),
        ("fa", "physiology", "کدام هورمون قند خون را کاهش می‌دهد؟"),
        ("fa", "physiology", "کمبود کدام ویتامین در زمستان شایع است؟"),
    ])
]


def assert_same(fast, reference, requests):
    for r in requests:
        got = [fast[r.question][c] for c in range(len(r.continuations))]
        want = [reference[r.question][c] for c in range(len(r.continuations))]
        assert got == pytest.approx(want, abs=2e-4)


@pytest.mark.parametrize("style", ["letters", "cloze"])
@pytest.mark.parametrize("shots", [0, 2])
def test_fast_scores_equal_naive_full_passes(tiny_inference, style, shots):
    model, tok = tiny_inference
    fewshot = select_fewshot(POOL, shots) if shots else None
    requests = build_requests(tok, POOL, style, fewshot)
    if shots:
        assert all(r.shared > 0 for r in requests)  # the few-shot block is computed once per subject
    fast = score_requests(model, tok, requests, batch_size=3, label="t")
    assert_same(fast, score_requests_naively(model, requests), requests)


def test_batch_size_does_not_change_scores(tiny_inference):
    model, tok = tiny_inference
    requests = build_requests(tok, POOL, "letters")
    one = score_requests(model, tok, requests, batch_size=1, label="b1")
    seven = score_requests(model, tok, requests, batch_size=7, label="b7")
    assert_same(one, seven, requests)


def test_fewshot_layout_follows_lm_eval(tiny_tokenizer):
    examples = select_fewshot(POOL, 2)
    assert [e.id for e in examples["pharmacology"]] == ["r0", "r1"]
    block = fewshot_block(examples["pharmacology"], "letters")
    assert block == (
        "Which drug lowers blood glucose by injection?\nA. Aspirin\nB. Insulin\nC. Metformin\nD. Vitamin D\nAnswer: A\n\n"
        "Which drug is an antiplatelet?\nA. Aspirin\nB. Insulin\nC. Metformin\nD. Vitamin D\nAnswer: B\n\n"
    )
    (request,) = build_requests(tiny_tokenizer, POOL[2:3], "letters", examples)
    text = tiny_tokenizer.decode(request.context)
    assert text.startswith("The following are multiple choice questions (with answers) about pharmacology.\n\n" + block)
    assert text.endswith("Which is a biguanide?\nA. Aspirin\nB. Insulin\nC. Metformin\nD. Vitamin D\nAnswer:")


@pytest.mark.parametrize("style", ["letters", "cloze"])
def test_a_repeated_question_is_scored_once_with_the_same_numbers(tiny_inference, style):
    model, tok = tiny_inference
    repeated = POOL + [POOL[0].model_copy(update={"id": "again"}), POOL[5].model_copy(update={"id": "again-fa"})]

    def rows_computed(records):
        rows = []
        hook = model.register_forward_pre_hook(lambda _, args, kwargs: rows.append(kwargs["input_ids"].numel()),
                                               with_kwargs=True)
        try:
            return score_requests(model, tok, build_requests(tok, records, style), 16, "repeats"), sum(rows)
        finally:
            hook.remove()

    scores, tokens_with_repeats = rows_computed(repeated)
    _, tokens_without = rows_computed(POOL)
    assert scores[len(POOL)] == scores[0] and scores[len(POOL) + 1] == scores[5]
    assert tokens_with_repeats == tokens_without
