"""Agreement with lm-evaluation-harness: the same prompts scored by lm-eval's own `hf` model and by medadapt
give the same prediction for every question, at batch sizes 1 and 16 (tiny random model, offline)."""

from __future__ import annotations

import pytest

from shared_data import SHARED

GENETICS = SHARED / "data/gaokerena/mmlu_fa/mmlu-medical_genetics_fa.csv"

pytest.importorskip("lm_eval", reason="lm-eval is a test extra: pip install 'medadapt[test]'")


@pytest.fixture(scope="module")
def questions():
    if not GENETICS.is_file():
        pytest.skip(f"shared data not present: {GENETICS}")
    from medadapt.evaluate.mcqa.benchmark import load_questions

    records, rejected = load_questions(GENETICS, "gaokerena-mmlu-fa")
    assert len(records) == 100 and not rejected
    return records


@pytest.mark.parametrize("batch_size", [1, 16])
@pytest.mark.parametrize("style", ["letters", "cloze"])
def test_predictions_identical_to_lm_eval(tiny_model_dir, tiny_inference, questions, batch_size, style):
    from medadapt.evaluate.mcqa.lm_eval_engine import lm_eval_model
    from medadapt.evaluate.mcqa.predict import predict_loglik

    model, tokenizer = tiny_inference
    ours = predict_loglik(model, tokenizer, questions, batch_size, "ours", style)
    theirs = predict_loglik(model, tokenizer, questions, batch_size, "lm-eval", style,
                            lm_eval=lm_eval_model(str(tiny_model_dir), batch_size))
    assert [p["pred"] for p in ours] == [p["pred"] for p in theirs]
    for a, b in zip(ours, theirs):
        assert a["loglik"] == pytest.approx(b["loglik"], abs=1e-3)
    accuracy = sum(p["correct"] for p in ours) / len(ours)
    assert accuracy == sum(p["correct"] for p in theirs) / len(theirs)
