"""The zh, ja, ko, fr and es safety packs on messages their lexicons were not written from
(``phrasings_heldout.yaml``): recall per language, false alarms and language identification, each held at
least at the figure measured when the set was first run (a regression floor, not a goal: the misses are
listed, and the lexicons are not grown to pass them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medadapt.serve.safety import SafetyLayer

HERE = Path(__file__).parent
HELDOUT = yaml.safe_load((HERE / "phrasings_heldout.yaml").read_text(encoding="utf-8"))
TUNED = yaml.safe_load((HERE / "phrasings.yaml").read_text(encoding="utf-8"))
# measured on the first run: (red flags found, red-flag messages, benign messages flagged, messages whose
# language was identified, messages)
MEASURED = {"zh": (28, 29, 0, 35, 35), "ja": (28, 28, 0, 34, 34), "ko": (25, 27, 0, 32, 32),
            "fr": (28, 28, 0, 33, 34), "es": (26, 27, 0, 32, 33)}


@pytest.fixture(scope="module")
def layer() -> SafetyLayer:
    return SafetyLayer()


def test_the_heldout_set_is_big_enough_and_unseen():
    tuned = {t for cats in TUNED["red_flags"].values() for texts in cats.values() for t in texts}
    tuned |= {t for texts in TUNED["ordinary"].values() for t in texts}
    for lang in MEASURED:
        assert all(len(texts) >= 3 for texts in HELDOUT["red_flags"][lang].values()), lang
        assert len(HELDOUT["red_flags"][lang]) == len(TUNED["red_flags"][lang]), lang
        assert len(HELDOUT["ordinary"][lang]) >= 5, lang
        heldout = {t for texts in HELDOUT["red_flags"][lang].values() for t in texts} | set(HELDOUT["ordinary"][lang])
        assert not heldout & tuned, lang


@pytest.mark.parametrize("lang", list(MEASURED))
def test_heldout_recall_false_alarms_and_language(layer, lang):
    found, total, false_alarms, identified, messages = MEASURED[lang]
    misses = [(category, text) for category, texts in HELDOUT["red_flags"][lang].items() for text in texts
              if category not in [f.category for f in layer.red_flags(text)]]
    alarms = [text for text in HELDOUT["ordinary"][lang] if layer.red_flags(text)]
    texts = [t for ts in HELDOUT["red_flags"][lang].values() for t in ts] + HELDOUT["ordinary"][lang]
    wrong_language = [(text, layer.detect_language(text)) for text in texts if layer.detect_language(text) != lang]
    assert len(texts) == messages and messages - len(HELDOUT["ordinary"][lang]) == total
    assert total - len(misses) >= found, misses
    assert len(alarms) <= false_alarms, alarms
    assert messages - len(wrong_language) >= identified, wrong_language
