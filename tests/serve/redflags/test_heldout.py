"""The detector on messages it was never tuned on (``heldout2.jsonl``: 34 per language, written for medadapt before
the detector's last round of work and never used to choose a rule, an exemplar, a threshold or a model; the first
held-out set, once looked at, was folded into the exemplars). Each language's figures are held at least at those
measured when the detector was finished (a regression floor, not a goal: do not grow a lexicon to pass a message
here; move it to the exemplars and write a new set). After that measurement, three general context fixes came from
its misses (French "mon ado" is not the past; Japanese 今は…元気 with words between; しないための prevention
questions), so this set is no longer fully unseen: the next round of work needs a new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from medadapt.serve.redflags.evaluate import evaluate
from medadapt.serve.redflags.rules import DATA
from medadapt.serve.redflags.semantic import read_jsonl
from medadapt.serve.safety import SafetyLayer

HELDOUT = Path(__file__).with_name("heldout2.jsonl")
CATEGORIES = 12
# measured on 2026-12-02: (emergencies found, emergencies, ordinary messages flagged, ordinary messages)
MEASURED = {"en": (17, 18, 1, 16), "fa": (18, 18, 0, 16), "ar": (17, 18, 0, 16), "zh": (18, 18, 0, 16),
            "ja": (17, 18, 1, 16), "ko": (17, 18, 0, 16), "fr": (18, 18, 0, 16), "es": (18, 18, 0, 16)}


@pytest.fixture(scope="module")
def report():
    return evaluate(SafetyLayer(), HELDOUT)


def test_the_heldout_set_is_unseen_and_covers_every_category_and_language():
    rows = read_jsonl(HELDOUT)
    tuned = {r["text"] for name in ("dev.jsonl", "exemplars.jsonl") for r in read_jsonl(DATA / name)}
    assert not {r["text"] for r in rows} & tuned
    for lang in MEASURED:
        mine = [r for r in rows if r["lang"] == lang]
        assert len({r["category"] for r in mine if r["category"]}) == CATEGORIES, lang
        assert sum(r["category"] is None for r in mine) >= 15, lang


@pytest.mark.parametrize("lang", list(MEASURED))
def test_heldout_recall_and_false_alarms_hold(report, lang):
    found, emergencies, alarms, ordinary = MEASURED[lang]
    tally = report.by_language[lang]
    assert (tally.emergencies, tally.ordinary) == (emergencies, ordinary)
    assert tally.found >= found, [m for m in report.misses if m["lang"] == lang]
    assert tally.false_alarms <= alarms, [a for a in report.false_alarms if a["lang"] == lang]
