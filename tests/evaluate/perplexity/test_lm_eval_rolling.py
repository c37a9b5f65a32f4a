"""`medadapt eval perplexity` on text gives lm-evaluation-harness's own figures: a real, offline lm-eval run of a
`loglikelihood_rolling` task (wikitext's metrics: word_perplexity, byte_perplexity, bits_per_byte) over the same
JSONL on a tiny model, with windows short enough that most documents need several."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from medadapt.cli.main import app

lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is a test extra: pip install 'medadapt[test]'")

TEXTS = [
    ("The patient has a fever and a headache. Drink water and rest. See a doctor if it gets worse.", "en"),
    ("Hypertension raises the risk of stroke.", "en"),
    ("بیمار تب و سردرد دارد. آب بنوشید و استراحت کنید. می‌توانید به پزشک مراجعه کنید.", "fa"),
    ("Which nerve supplies the diaphragm?\nThe phrenic nerve.  Answer:   A B C D", "en"),
    ("فشار خون بالا خطر سکته را افزایش می‌دهد. پاسخ: " * 3, "fa"),
    ("Aspirin", "en"),
]
WINDOW = 16
METRICS = ("word_perplexity", "byte_perplexity", "bits_per_byte")


def write_documents(path: Path) -> Path:
    rows = [{"id": f"d{i}", "source": "forum" if i % 2 else "site", "lang": lang, "text": text.strip()}
            for i, (text, lang) in enumerate(TEXTS)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def run_lm_eval(folder: Path, model_dir: Path, data: Path) -> dict:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    config = {"task": "medadapt_rolling", "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
              "test_split": "test", "output_type": "loglikelihood_rolling", "doc_to_text": "", "doc_to_target": "{{text}}",
              "metric_list": [{"metric": m} for m in METRICS]}
    (folder / "medadapt_rolling.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = simple_evaluate(model="hf", model_args=f"pretrained={model_dir},dtype=float32,max_length={WINDOW}",
                          tasks=["medadapt_rolling"], task_manager=TaskManager(include_path=str(folder)), device="cpu",
                          batch_size=3, log_samples=True)
    return out


def test_rolling_figures_equal_lm_eval(tmp_path, tiny_model_dir, tiny_tokenizer):
    data = write_documents(tmp_path / "docs.jsonl")
    assert max(len(tiny_tokenizer.encode(t)) for t, _ in TEXTS) > 3 * WINDOW  # several windows, a short last one
    theirs = run_lm_eval(tmp_path, tiny_model_dir, data)
    figures = theirs["results"]["medadapt_rolling"]

    out = tmp_path / "medadapt"
    result = CliRunner().invoke(app, ["eval", "perplexity", "--model", str(tiny_model_dir), "--data", str(data),
                                      "--format", "text", "--max-length", str(WINDOW), "--out", str(out)])
    assert result.exit_code == 0, result.output
    ours = json.loads((out / "results.json").read_text(encoding="utf-8"))["models"]["model"]
    for metric in METRICS:
        assert ours[metric] == pytest.approx(figures[f"{metric},none"], rel=1e-4), metric

    samples = sorted(theirs["samples"]["medadapt_rolling"], key=lambda s: s["doc_id"])
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [s["loglikelihood"] for s in scores] == pytest.approx(
        [s["resps"][0][0] if isinstance(s["resps"][0][0], float) else s["resps"][0][0][0] for s in samples], rel=1e-4)
    by_lang = ours["by_lang"]
    assert set(by_lang) == {"en", "fa"} and set(ours["by_source"]) == {"forum", "site"}
    assert by_lang["fa"]["n"] == 2 and by_lang["fa"]["bytes"] == sum(len(t.strip().encode()) for t, l in TEXTS if l == "fa")
