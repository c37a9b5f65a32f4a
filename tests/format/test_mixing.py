"""Mixing: exact ratios by language/source, caps, seeded up-/down-sampling, the report."""

from __future__ import annotations

import pytest

from medadapt.format.mixing import cap_sources, composition, mix_by
from medadapt.records.kinds import TextRecord
from medadapt.errors import DataError


def _records(lang: str, source: str, n: int) -> list[TextRecord]:
    return [TextRecord(id=f"{source}-{lang}-{i}", source=source, lang=lang, text="x" * (i + 1)) for i in range(n)]


POOL = _records("fa", "forum", 300) + _records("en", "kqa", 1000) + _records("ar", "other", 50)


def test_downsampling_meets_the_ratio_and_reports_it():
    mixed, report = mix_by(POOL, "lang", {"fa": 1, "en": 2}, seed=0)
    counts = {lang: sum(r.lang == lang for r in mixed) for lang in ("fa", "en", "ar")}
    assert counts == {"fa": 300, "en": 600, "ar": 0}  # fa limits the size: every fa record is used once
    assert report["groups"]["en"] == {"available": 1000, "selected": 600, "intended_share": 0.6667,
                                      "achieved_share": 0.6667}
    assert report["left_out"] == {"ar": 50} and report["max_share_error"] < 0.01
    assert len({r.id for r in mixed}) == len(mixed)


def test_upsampling_repeats_smaller_groups_with_unique_ids():
    mixed, report = mix_by(POOL, "lang", {"fa": 1, "en": 1}, seed=0, upsample=True)
    fa = [r for r in mixed if r.lang == "fa"]
    assert len(fa) == 1000 and sum(r.lang == "en" for r in mixed) == 1000
    assert len({r.id for r in fa}) == 1000 and sum(r.id.endswith("~4") for r in fa) == 100
    assert report["max_share_error"] == 0


@pytest.mark.parametrize("total", [97, 1000, 2500])
def test_a_fixed_total_is_within_one_percent_of_the_ratio(total):
    mixed, report = mix_by(POOL, "lang", {"fa": 1, "en": 2, "ar": 0.5}, seed=3, total=total)
    assert abs(len(mixed) - total) <= 2 and report["max_share_error"] < 0.01


def test_mixing_is_seeded():
    first = [r.id for r in mix_by(POOL, "lang", {"fa": 1, "en": 1}, seed=7)[0]]
    assert first == [r.id for r in mix_by(POOL, "lang", {"fa": 1, "en": 1}, seed=7)[0]]
    assert first != [r.id for r in mix_by(POOL, "lang", {"fa": 1, "en": 1}, seed=8)[0]]


def test_a_weighted_group_without_records_is_an_error():
    with pytest.raises(DataError, match="no records for de"):
        mix_by(POOL, "lang", {"fa": 1, "de": 1}, seed=0)


def test_caps_per_source_and_composition():
    kept, removed = cap_sources(POOL, {"kqa": 100}, seed=0)
    assert removed == {"kqa": 900} and sum(r.source == "kqa" for r in kept) == 100 and len(kept) == 450
    table = composition(_records("fa", "a", 3), lambda r: len(r.text), tokens=lambda r: 2)
    assert table["by_lang"] == {"fa": {"records": 3, "chars": 6, "tokens": 6}}
