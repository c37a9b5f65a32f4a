"""The shipped six-language recipe (recipes/multilingual.yaml) through curate → data → evaluate → report on a
tiny random model: every stage's counts per language are in the report and match counts made here, straight
from the bundled input files.

The files plant what curate must remove, named in their ids: ``-dup`` (an exact repeat of the language's
first question), ``-short`` (an article under the length bound), ``-offtopic`` (a cooking question: no
medical keywords) and ``-overlap`` (a question quoting an evaluation question). Nothing else may go.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import yaml
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.resources import resource_path

REPO = Path(__file__).resolve().parents[1]
LANGS = ["en", "zh", "ja", "ko", "fr", "es"]
PLANTED = {"dup": "exact_dedup", "short": "length", "offtopic": "knowledge_density", "overlap": "decontaminate"}


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in resource_path(f"multilingual/{name}").read_text(encoding="utf-8").splitlines()]


def planted_step(record_id: str) -> str | None:
    tag = record_id.rsplit("-", 1)[-1]
    return PLANTED.get(tag)


def md_row(cells: list) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def mixed(available: dict[str, int], weights: dict[str, float]) -> dict[str, int]:
    """What a down-sampling mix by weight leaves of each language (no record repeated)."""
    total = sum(weights.values())
    scale = min(available[lang] / (w / total) for lang, w in weights.items())
    return {lang: round(scale * w / total) for lang, w in weights.items()}


def test_six_languages_counted_at_every_stage(tmp_path, tiny_model_dir):
    recipe = yaml.safe_load((REPO / "recipes" / "multilingual.yaml").read_text(encoding="utf-8"))
    assert recipe["languages"] == LANGS
    recipe["model"] = str(tiny_model_dir)
    path = tmp_path / "multilingual.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")

    result = CliRunner().invoke(app, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "multilingual"
    manifest = json.loads((run / "manifest.json").read_text())
    assert list(manifest["stages"]) == ["curate", "data", "evaluate", "report"]
    report_md = (run / "report" / "report.md").read_text(encoding="utf-8")
    html = (run / "report" / "index.html").read_text(encoding="utf-8")

    # curate: read, removed by each planted step, kept, per language
    qa, articles = rows("qa.jsonl"), rows("articles.jsonl")
    read = Counter(r["lang"] for r in qa + articles)
    removed = Counter((r["lang"], planted_step(r["id"])) for r in qa + articles if planted_step(r["id"]))
    rejected = [json.loads(line) for line in (run / "curate" / "rejected.jsonl").read_text().splitlines()]
    assert sorted((r["id"], r["step"]) for r in rejected) == sorted(
        (r["id"], planted_step(r["id"])) for r in qa + articles if planted_step(r["id"]))
    steps = list(PLANTED.values())
    kept = {lang: read[lang] - sum(removed[(lang, s)] for s in steps) for lang in LANGS}
    stats = json.loads((run / "curate" / "stats.json").read_text())
    assert list(stats["by_language"]["zh"]) == ["read", *(f"removed: {s}" for s in steps), "kept"]
    assert md_row(["language", "read", *(f"removed: {s}" for s in steps), "kept"]) in report_md
    for lang in LANGS:
        cells = [read[lang], *(removed[(lang, s)] for s in steps), kept[lang]]
        assert md_row([lang, *cells]) in report_md
        assert f"<tr><td>{lang}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>" in html
        by_step = {s["step"]: s["by_lang"][lang] for s in stats["steps"]}
        assert by_step["decontaminate"]["removed"] == removed[(lang, "decontaminate")]
        assert by_step["decontaminate"]["out"] == kept[lang]

    # data: the chats per language after the recipe's mix, and one stage-1 chunk per (short) article
    kept_qa = {lang: sum(1 for r in qa if r["lang"] == lang and not planted_step(r["id"])) for lang in LANGS}
    kept_articles = {lang: sum(1 for r in articles if r["lang"] == lang and not planted_step(r["id"])) for lang in LANGS}
    assert all(len(r["title"]) + len(r["text"]) < 2000 for r in articles)
    weights = recipe["data"]["mix"]["by_lang"]
    chats, chunks = mixed(kept_qa, weights), mixed(kept_articles, weights)
    assert chats["en"] == 2 * chats["zh"]  # the mix is not a no-op here
    written = Counter(json.loads(line)["lang"] for line in (run / "data" / "stage2_chat.jsonl").read_text().splitlines())
    assert written == Counter(chats)
    for lang in LANGS:
        assert md_row([lang, kept[lang], 0, chats[lang], 0, chunks[lang]]) in report_md

    # evaluate: questions and accuracy per language, from the predictions themselves
    mcqa = rows("mcqa.jsonl")
    predictions = [json.loads(line) for line in
                   (run / "evaluate" / "multilingual-mcqa" / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == len(mcqa)
    by_id = {m["id"]: m for m in mcqa}
    for lang in LANGS:
        mine = [p for p in predictions if by_id[p["id"]]["lang"] == lang]
        accuracy = sum(p["pred"] == by_id[p["id"]]["answer"] for p in mine) / len(mine)
        assert len(mine) == sum(1 for m in mcqa if m["lang"] == lang)
        assert md_row([lang, len(mine), f"{accuracy:.3f}"]) in report_md
    assert re.search(r"### evaluate: per language\n\n\| language \| multilingual-mcqa: questions \| "
                     r"multilingual-mcqa: base \|", report_md)
