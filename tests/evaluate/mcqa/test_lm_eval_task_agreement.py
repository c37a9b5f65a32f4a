"""`medadapt eval mcqa` on KorMedMCQA-, HEAD-QA- and CMB-style files builds the prompt strings of
lm-evaluation-harness's own tasks (their doc_to_text / doc_to_choice read from the installed lm-eval's task
YAMLs) and predicts the same options as a real, offline lm-eval run of those tasks on a tiny model.

lm-eval's KorMedMCQA task generates its answer; it is run here as multiple_choice over A-E with the task's
own prompt, which is how medadapt scores it (log-likelihood of the letter). CMB has no lm-eval task: its
prompt is C-Eval's (ceval-valid_*) over CMB's columns, with the exam type as the subject. CMB's multi-answer
questions, which lm-eval cannot score, are answered generatively by medadapt and scored, not dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.evaluate.mcqa.benchmark import load_questions
from medadapt.evaluate.mcqa.prompts import PromptSet
from medadapt.evaluate.mcqa.requests import build_requests

lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is a test extra: pip install 'medadapt[test]'")

SAMPLES = Path(__file__).with_name("samples")
TASKS = Path(lm_eval.__file__).parent / "tasks"


class _Loader(yaml.SafeLoader):
    """Reads lm-eval's task YAMLs, whose `!function` tags name Python hooks this test does not need."""


_Loader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))


def lm_eval_yaml(relative: str) -> dict:
    return yaml.load((TASKS / relative).read_text(encoding="utf-8"), Loader=_Loader)


def kormedmcqa_task() -> dict:
    theirs = lm_eval_yaml("kormedmcqa/_template_yaml")
    return {"doc_to_text": theirs["doc_to_text"], "doc_to_choice": ["A", "B", "C", "D", "E"],
            "doc_to_target": "{{answer - 1}}"}


def headqa_task() -> dict:
    theirs = lm_eval_yaml("headqa/headqa_en.yaml")  # headqa_es includes it, changing only the data set
    return {k: theirs[k] for k in ("doc_to_text", "doc_to_choice", "doc_to_target")}


def cmb_task() -> dict:
    ceval = lm_eval_yaml("ceval/_default_ceval_yaml")
    description = lm_eval_yaml("ceval/ceval-valid_clinical_medicine.yaml")["description"]
    assert ceval["doc_to_text"] == "{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\n答案："
    # C-Eval's layout over CMB's option dict (a missing key is null in the Arrow table) and exam type
    text = "{{question.strip()}}\n{% for k, v in option.items() if v is not none %}{{k}}. {{v}}\n{% endfor %}答案："
    return {"description": description.replace("临床医学", "{{exam_type}}"), "doc_to_text": text,
            "doc_to_choice": "{{option|dictsort|selectattr(1)|map(attribute=0)|list}}",
            "doc_to_target": "{{['A', 'B', 'C', 'D', 'E'].index(answer)}}"}


def run_lm_eval(folder: Path, model_dir: Path, name: str, data: Path, task: dict) -> list[dict]:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    config = {"task": name, "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
              "test_split": "test", "output_type": "multiple_choice", "metric_list": [{"metric": "acc"}], **task}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = simple_evaluate(model="hf", model_args=f"pretrained={model_dir},dtype=float32", tasks=[name],
                          task_manager=TaskManager(include_path=str(folder)), device="cpu", batch_size=4,
                          log_samples=True)
    return sorted(out["samples"][name], key=lambda s: s["doc_id"])


def eval_mcqa(tmp_path: Path, model_dir: Path, data: Path, *options: str) -> list[dict]:
    out = tmp_path / "medadapt"
    result = CliRunner().invoke(app, ["eval", "mcqa", "--model", str(model_dir), "--benchmark", str(data),
                                      "--out", str(out), *options])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]


def single_answer_file(tmp_path: Path, source: Path) -> Path:
    rows = [r for r in json.loads(source.read_text(encoding="utf-8")) if len(r["answer"]) == 1]
    path = tmp_path / "cmb-single.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


LAYOUTS = {  # sample, format, medadapt options, lm-eval task, style for the prompt strings, prompt
    "kormedmcqa": ("kormedmcqa.jsonl", "kormedmcqa", [], kormedmcqa_task, "letters", None),
    "headqa": ("headqa.json", "headqa", ["--style", "cloze", "--prompt", "headqa"], headqa_task, "cloze", "headqa"),
    "cmb": ("cmb.json", "cmb", [], cmb_task, "letters", None),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_prompts_and_predictions_equal_lm_eval_tasks(tmp_path, tiny_model_dir, tiny_tokenizer, layout):
    sample, fmt, options, task, style, prompt = LAYOUTS[layout]
    data = SAMPLES / sample
    lm_eval_data = single_answer_file(tmp_path, data) if layout == "cmb" else data
    samples = run_lm_eval(tmp_path, tiny_model_dir, f"medadapt_{layout}", lm_eval_data, task())

    records, _ = load_questions(data, fmt)
    single = [r for r in records if r.answers is None]
    requests = build_requests(tiny_tokenizer, single, style, prompts=PromptSet.load(prompt))
    assert len(samples) == len(requests)
    for sample_row, request in zip(samples, requests):
        assert [tuple(a) for a in sample_row["arguments"]] == [(request.text[0], c) for c in request.text[1]]

    ours = [p for p in eval_mcqa(tmp_path, tiny_model_dir, data, "--format", fmt, *options)
            if not p.get("multi_answer")]
    logliks = [[float(r[0]) for r in s["filtered_resps"]] for s in samples]
    if style == "cloze":  # acc_norm: per character of the option's text
        logliks = [[ll / len(a[1].removeprefix(" ")) for ll, a in zip(row, s["arguments"])]
                   for row, s in zip(logliks, samples)]
    assert [p["pred"] for p in ours] == [max(range(len(row)), key=row.__getitem__) for row in logliks]


def test_cmb_multi_answer_questions_are_scored(tmp_path, tiny_model_dir):
    predictions = eval_mcqa(tmp_path, tiny_model_dir, SAMPLES / "cmb.json", "--format", "cmb")
    multi = [p for p in predictions if p.get("multi_answer")]
    assert [p["answer"] for p in multi] == [[0, 3], [0, 1, 2]]
    assert all(isinstance(p["pred"], list) and p["correct"] == (p["pred"] == p["answer"]) for p in multi)
    results = json.loads((tmp_path / "medadapt" / "results.json").read_text(encoding="utf-8"))
    metrics = results["models"]["model"]
    assert results["n"] == 4 and results["rejected"] == 0
    assert metrics["single_answer"]["n"] == 2 and metrics["multi_answer"]["n"] == 2
    assert metrics["multi_answer"]["scoring"] == "exact match of the set of correct options"
    assert set(metrics["by_subject"]) == {"医师考试", "护理考试", "药师考试"}
