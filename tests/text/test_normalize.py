"""Normalisation (curate's normalize step): letters per language, digits, ZWNJ, tatweel, diacritics, control
characters, whitespace."""

from __future__ import annotations

import csv

import pytest
from shared_data import SHARED

from medadapt.text.normalize import NormalizeOptions, Normalizer

ZWNJ = "\u200c"
EXAMS = SHARED / "data" / "gaokerena" / "exams" / "basic_sciences_1400_1403.csv"


@pytest.fixture(scope="module")
def normalize() -> Normalizer:
    return Normalizer()


def test_persian_letters_unified_and_arabic_kept(normalize):
    assert normalize("كيف حالك يا دكتر", "fa") == "کیف حالک یا دکتر"
    assert normalize("مستشفى كبير في مدينتي", "ar") == "مستشفى كبير في مدينتي"
    assert normalize("ی ک", "ar") == "ي ك"  # Persian keyboard letters in Arabic text become Arabic


def test_arabic_presentation_forms_folded(normalize):
    # as in the Gaokerena exam file: «تارهایﻋﻀﻼنی» written with presentation-form glyphs
    assert normalize("تارهایﻋﻀﻼنی", "fa") == "تارهایعضلانی"


def test_digits_to_one_script():
    assert Normalizer()("فشار ۱۲۰/۸۰ و ٣٤", "fa") == "فشار 120/80 و 34"
    assert Normalizer(NormalizeOptions(digits="persian"))("120/80 و ٣٤", "fa") == "۱۲۰/۸۰ و ۳۴"
    assert Normalizer(NormalizeOptions(digits="keep"))("۱۲۰ ٣٤", "fa") == "۱۲۰ ٣٤"


def test_zwnj_repaired_and_kept(normalize):
    assert normalize("این دارو می تواند کمک کند", "fa") == f"این دارو می{ZWNJ}تواند کمک کند"
    assert normalize("نمی دانم", "fa") == f"نمی{ZWNJ}دانم"
    assert normalize("کتاب ها و بیماری های قلبی", "fa") == f"کتاب{ZWNJ}ها و بیماری{ZWNJ}های قلبی"
    assert normalize("خسته ام و این خانه ای است", "fa") == f"خسته{ZWNJ}ام و این خانه{ZWNJ}ای است"
    assert normalize(f"می{ZWNJ}تواند", "fa") == f"می{ZWNJ}تواند"  # a correct ZWNJ survives untouched
    assert normalize(f"بیمار{ZWNJ}{ZWNJ}ها {ZWNJ}و", "fa") == f"بیمار{ZWNJ}ها و"
    assert normalize("Some words here", "en") == "Some words here"


def test_tatweel_control_and_invisible_characters_removed(normalize):
    assert normalize("بـــیمار", "fa") == "بیمار"
    assert normalize("a\x00b\x1bc\u200fd\ufeffe\u200bf", "en") == "abcdef"


def test_diacritics_removed_only_when_asked():
    assert Normalizer()("گلژِی", "fa") == "گلژِی"
    assert Normalizer(NormalizeOptions(remove_diacritics=True))("گلژِی فوراً", "fa") == "گلژی فورا"


def test_whitespace(normalize):
    assert normalize("  a \t b\u00a0c  \r\n\n\n\nd  ", "en") == "a b c\n\nd"


@pytest.mark.skipif(not EXAMS.is_file(), reason=f"shared exam data not present at {EXAMS}")
def test_exam_file_arabic_forms_become_persian(normalize):
    rows = list(csv.DictReader(EXAMS.open(encoding="utf-8")))[:200]
    raw = " ".join(r["Question"] + " " + r["Option1"] for r in rows)
    assert "ك" in raw and "ي" in raw  # the file really has Arabic-form letters
    cleaned = normalize(raw, "fa")
    for arabic in ("ك", "ي", "ى"):
        assert arabic not in cleaned
    assert not any("\ufb50" <= c <= "\ufdff" or "\ufe70" <= c <= "\ufeff" for c in cleaned)
    assert normalize(rows[0]["Question"], "fa").startswith("کدام یک از اعمال دستگاه گلژ")


def test_width_forms_folded_for_cjk_languages_only(normalize):
    assert normalize("ＣＴ检查：血压１４０／９０ｍｍＨｇ，服药５㎎（每日）？", "zh") == "CT检查：血压140/90mmHg，服药5mg（每日）？"
    assert normalize("ｶﾞﾝ検診｡３～５日！", "ja") == "ガン検診。3～5日！"  # Japanese full-width ！～ kept
    assert normalize("ㅋㅋ 혈압이 １４０이에요！", "ko") == "ㅋㅋ 혈압이 140이에요!"  # compatibility jamo stay
    assert normalize("ＣＴ scan", "en") == "ＣＴ scan"


def test_traditional_to_simplified_only_when_asked_and_only_for_chinese():
    text = "醫院檢查糖尿病與高血壓"
    assert Normalizer()(text, "zh") == text
    simplified = Normalizer(NormalizeOptions(simplified_chinese=True))
    assert simplified(text, "zh") == "医院检查糖尿病与高血压"
    assert simplified("漢字の検査", "ja") == "漢字の検査"
