"""The data stage in a recipe: sources in several formats, fa:en mixing at the recipe's ratio, stage-1
text, truncation at cutoff_len with the model's tokenizer, and the old `qa:` form still working."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.recipe import load_recipe


def _qa_rows(lang: str, n: int, source: str) -> list[str]:
    return [json.dumps({"id": f"{source}-{lang}-{i}", "source": source, "url": "", "lang": lang,
                        "question": f"Question {i} about fever?", "answer": f"Answer {i}: rest and drink water."},
                       ensure_ascii=False) for i in range(n)]


def _run(tmp_path, data_section: str, model: str = "smollm2-135m"):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"name: t\nlanguages: [en, fa]\nmodel: {model}\nseed: 1\ndata:\n{data_section}", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(recipe), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    return tmp_path / "runs" / "t" / "data"


def test_sources_mix_fa_en_at_the_recipe_ratio(tmp_path):
    (tmp_path / "qa.jsonl").write_text("\n".join(_qa_rows("en", 400, "kqa") + _qa_rows("fa", 300, "forum")) + "\n")
    (tmp_path / "exam.csv").write_text("question,option1,option2,option3,option4,answer,Source\n" + "".join(
        f"پرسش {i}؟,الف,ب,ج,د,{i % 4 + 1},mmlu-anatomy_translation\n" for i in range(60)) + "پرسش بد؟,الف,ب,ج,د,7,mmlu-anatomy_translation\n",
        encoding="utf-8")
    (tmp_path / "articles.jsonl").write_text(json.dumps({
        "id": "a1", "source": "mag", "url": "", "lang": "fa", "title": "تب", "text": "متن مقاله دربارهٔ تب."}) + "\n")
    data = _run(tmp_path, """
  sources:
    - {path: qa.jsonl}
    - {path: exam.csv, format: gaokerena-mmlu-fa, source: exam}
    - {path: articles.jsonl, format: article}
  cap_per_source: 250
  mix: {by_lang: {fa: 1, en: 2}}
  dev_fraction: 0.1
report: {}
""")
    stats = json.loads((data / "stats.json").read_text())
    assert stats["capped"] == {"kqa": 150, "forum": 50}
    assert stats["rejected"] == 1 and "answer: 7 is outside the 4 options" in json.loads(
        (data / "rejected.jsonl").read_text().splitlines()[0])["reason"]
    train = [json.loads(line) for line in (data / "stage2_chat.jsonl").read_text().splitlines()]
    share_fa = sum(c["lang"] == "fa" for c in train) / len(train)
    assert abs(share_fa - 1 / 3) < 0.01 and stats["train"] == len(train)
    mixture = json.loads((data / "mixture.json").read_text())
    assert mixture["stage2_chat"]["mix"][0]["max_share_error"] < 0.01
    assert set(mixture["stage2_chat"]["by_source"]) == {"kqa", "forum", "exam"}
    texts = [json.loads(line) for line in (data / "stage1_text.jsonl").read_text().splitlines()]
    assert texts == [{"id": "a1", "source": "mag", "lang": "fa", "text": "تب\n\nمتن مقاله دربارهٔ تب."}]
    assert (data / "stage2_chat_dev.jsonl").read_text().count("\n") == stats["dev"] == 56
    report = (data.parent / "report" / "report.md").read_text()
    assert "| stage-1 text chunks | 1 |" in report and "| mixture by lang | intended share | achieved share |" in report
    assert "| fa | 0.333 |" in report


def test_cutoff_len_uses_the_models_tokenizer(tmp_path, tiny_model_dir):
    rows = _qa_rows("en", 6, "kqa")
    rows.append(json.dumps({"id": "long", "source": "kqa", "url": "", "lang": "en", "question": "Fever?",
                            "answer": "Drink water and rest. " * 40}))
    (tmp_path / "qa.jsonl").write_text("\n".join(rows) + "\n")
    data = _run(tmp_path, """
  qa: [{path: qa.jsonl}]
  dev_fraction: 0.0
  cutoff_len: 128
  truncation: truncate_last
""", model=str(tiny_model_dir))
    stats = json.loads((data / "stats.json").read_text())
    assert stats["truncation"] == {"fit": 6, "truncated": 1} and stats["render_parity_problems"] == []
    mixture = json.loads((data / "mixture.json").read_text())
    assert mixture["stage2_chat"]["by_lang"]["en"]["tokens"] <= 7 * 128


def test_legacy_qa_list_still_reads_as_qa_sources():
    recipe = load_recipe("recipes/demo-fa.yaml")  # written with the first form, `data.qa: [{path: …}]`
    assert recipe.data.all_sources()[0][1].path == "medadapt://demo/qa.jsonl"
    assert recipe.data.all_sources()[0][1].reader == "qa"


def test_recipe_checks_sources_and_mix(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: t\nlanguages: [en]\nmodel: m\ndata:\n  sources:\n    - {path: nope.csv, format: nope}\n"
                      "  mix: {by_lang: {fa: 1}}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["recipe", "validate", str(recipe)])
    problems = str(result.exception)
    assert "data.mix.by_lang: languages not in `languages`: fa" in problems
    assert "data.sources.0.path: file not found: nope.csv" in problems
    assert "data.sources.0.format: nope: unknown format or mapping" in problems


def test_a_file_cap_applies_without_a_source_name(tmp_path):
    """`cap` on a source that names no `source:` caps the records that file gave (they carry their own source)."""
    (tmp_path / "qa.jsonl").write_text("\n".join(_qa_rows("en", 40, "kqa")) + "\n")
    (tmp_path / "more.jsonl").write_text("\n".join(_qa_rows("en", 30, "forum")) + "\n")
    data = _run(tmp_path, """
  sources:
    - {path: qa.jsonl, cap: 10}
    - {path: more.jsonl}
  dev_fraction: 0.0
report: {}
""")
    stats = json.loads((data / "stats.json").read_text())
    assert stats["capped"] == {"kqa": 30} and stats["train"] == 40
