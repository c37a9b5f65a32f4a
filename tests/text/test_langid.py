"""Language ID restricted to the seed papers' eight languages, on short medical questions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medadapt.text.langid import LanguageDetector

EIGHT = ["en", "fa", "ar", "zh", "ja", "ko", "fr", "es"]
QUESTIONS = yaml.safe_load((Path(__file__).parent / "data" / "questions.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(EIGHT)


def _accuracy(detector: LanguageDetector, half: str) -> tuple[float, list[tuple[str, str, str]]]:
    wrong = [(lang, row[lang], detector.detect(row[lang])[0]) for row in QUESTIONS[half] for lang in EIGHT
             if detector.detect(row[lang])[0] != lang]
    return 1 - len(wrong) / (len(QUESTIONS[half]) * len(EIGHT)), wrong


def test_the_set_has_twenty_parallel_questions_per_language_in_each_half():
    for half in ("tune", "held_out"):
        assert len(QUESTIONS[half]) == 20 and all(sorted(row) == sorted(EIGHT) for row in QUESTIONS[half])


def test_held_out_short_questions_are_identified(detector):
    accuracy, wrong = _accuracy(detector, "held_out")
    assert accuracy >= 0.95, wrong


def test_tune_half_is_identified(detector):
    accuracy, wrong = _accuracy(detector, "tune")
    assert accuracy >= 0.95, wrong


def test_kana_means_japanese_and_hangul_korean(detector):
    # kanji-heavy Japanese that character statistics alone can take for Chinese
    assert detector.detect("高血圧症の治療薬") == ("ja", 1.0)
    assert detector.detect("당뇨") == ("ko", 1.0)
    assert detector.candidates("胃痛") == {"zh", "ja"}  # kanji only: the classifier decides between the two
    assert detector.candidates("胃が痛い") == {"ja"}
    assert detector.candidates("Is it the flu?") == set(EIGHT)


def test_script_rules_leave_recipes_without_those_languages_alone():
    detector = LanguageDetector(["en", "fa"])
    assert detector.candidates("高血圧症の治療薬") == {"en", "fa"}
    assert detector.detect("What is a normal heart rate?")[0] == "en"
