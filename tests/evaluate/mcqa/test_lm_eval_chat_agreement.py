"""With the chat template on, medadapt builds the same prompt strings as lm-eval's `--apply_chat_template`
(run for real, offline, on a tiny model with a ChatML template) and predicts the same options."""

from __future__ import annotations

import pytest

from medadapt.format.exports import write_lm_eval
from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.predict import predict_loglik
from medadapt.evaluate.mcqa.requests import build_requests, select_fewshot

pytest.importorskip("lm_eval", reason="lm-eval is a test extra: pip install 'medadapt[test]'")

RECORDS = [MCQARecord(id=f"c{i}", source="t", lang="fa" if i % 3 == 0 else "en", subject="anatomy",
                      question=f"Question {i}: which structure is described?", choices=["femur", "ulna", "skull", "rib"],
                      answer=i % 4) for i in range(6)]


def lm_eval_chat_samples(folder, model_dir, records):
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    write_lm_eval(records, folder / "chat_task.yaml")
    out = simple_evaluate(model="hf", model_args=f"pretrained={model_dir},dtype=float32", tasks=["chat_task"],
                          task_manager=TaskManager(include_path=str(folder)), device="cpu", batch_size=4,
                          log_samples=True, apply_chat_template=True)
    return sorted(out["samples"]["chat_task"], key=lambda s: s["doc_id"])


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_chat_prompts_and_predictions_equal_lm_eval(tmp_path, tiny_model_dir, tiny_inference, lang):
    records = [r.model_copy(update={"lang": lang}) for r in RECORDS]
    samples = lm_eval_chat_samples(tmp_path, tiny_model_dir, records)
    model, tokenizer = tiny_inference
    requests = build_requests(tokenizer, records, "letters", chat=True)
    for sample, request in zip(samples, requests):
        assert [tuple(a) for a in sample["arguments"]] == [(request.text[0], c) for c in request.text[1]]
    ours = predict_loglik(model, tokenizer, records, 4, "ours", "letters", chat=True)
    theirs = [max(range(4), key=lambda i: float(s["filtered_resps"][i][0])) for s in samples]
    assert [p["pred"] for p in ours] == theirs


def test_chat_fewshot_shares_the_rendered_examples(tiny_tokenizer):
    fewshot = select_fewshot(RECORDS[:2], 2)
    requests = build_requests(tiny_tokenizer, RECORDS[2:], "letters", fewshot, chat=True)
    context = requests[0].text[0]
    assert context.startswith("<|im_start|>system\nThe following are multiple choice questions")
    assert context.index("Question 0") < context.index("Question 1") < context.index("Question 2")
    assert context.endswith("<|im_start|>assistant\n") and requests[0].text[1][0] == "A"
    english = [r for r in requests if r.prefix_key == "en/anatomy"]
    assert english and all(r.shared == english[0].shared > 0 for r in english)
