"""Knowledge density separates medical from other paragraphs in zh, ja, ko, fr and es.

The thresholds are the ones each keyword list documents in its header (chosen on the fixture's `tune` half);
they are asserted here on the `held_out` half only, through curate's knowledge_density step (whose words
in zh, ja and ko are their segmenters': medadapt.text.segmenters).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from curate_helpers import article, step

from medadapt.curate.filters import keyword_file

FIXTURES = Path(__file__).with_name("density")


def documented_thresholds(lang: str) -> dict[str, float]:
    header = "".join(line for line in keyword_file(lang).read_text(encoding="utf-8").splitlines(True)
                     if line.startswith("#"))
    found = re.search(r"min_keywords (\d+), min_coverage ([\d.]+)", header)
    assert found, f"{keyword_file(lang)} documents no thresholds"
    return {"min_keywords": int(found.group(1)), "min_coverage": float(found.group(2))}


@pytest.mark.parametrize("lang", ["zh", "ja", "ko", "fr", "es"])
def test_density_separates_held_out_paragraphs(lang):
    fixture = yaml.safe_load((FIXTURES / f"{lang}.yaml").read_text(encoding="utf-8"))["held_out"]
    assert len(fixture["medical"]) >= 5 and len(fixture["other"]) >= 5
    density = step({"step": "knowledge_density", **documented_thresholds(lang)}, [lang])
    docs = [article(f"{kind}{i}", text, lang=lang) for kind in ("medical", "other")
            for i, text in enumerate(fixture[kind])]
    result = density.apply(docs)
    assert sorted(d.id for d in result.kept) == [f"medical{i}" for i in range(len(fixture["medical"]))]
    assert {r.doc.id for r in result.rejected} == {f"other{i}" for i in range(len(fixture["other"]))}
