"""The per-language factors of languages.yaml (``per_english``) are what the parallel questions measure."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medadapt.text.segment import ngram_tokens, per_english, words
from medadapt.text.tables import load_yaml

ROWS = [row for half in yaml.safe_load((Path(__file__).parent / "data" / "questions.yaml").read_text(
    encoding="utf-8")).values() for row in half]
MEASURE = {
    "words": lambda text, lang: len(words(text, lang)),
    "chars": lambda text, lang: len(text),
    "ngram": lambda text, lang: len(ngram_tokens(text, lang, bare=True)),
}
ENGLISH = {"words": MEASURE["words"], "chars": MEASURE["chars"], "ngram": MEASURE["words"]}  # per English word


SCALED = [lang for lang, rules in load_yaml("languages.yaml").items() if "per_english" in rules]


@pytest.mark.parametrize("lang", SCALED)
@pytest.mark.parametrize("unit", sorted(MEASURE))
def test_factor_is_the_measured_ratio_to_english(lang, unit):
    ratio = sum(MEASURE[unit](row[lang], lang) for row in ROWS) / sum(ENGLISH[unit](row["en"], "en") for row in ROWS)
    assert per_english(lang, unit) == pytest.approx(ratio, abs=0.01)
