"""The one letter table and its named folds: what each caller's fold does, and what it leaves alone."""

from __future__ import annotations

import pytest

from medadapt.text.fold import (
    DIGITS, FIELD, KEYBOARD, LEXICON, LEXICON_PATTERN, MATCH, Fold, fold, letter_table, spelling,
)
from medadapt.text.tables import load_yaml

ZWNJ, TATWEEL = "\u200c", "\u0640"
FOLDS = ["persian", "arabic", "keyboard", "match", "lexicon"]


@pytest.mark.parametrize("name", FOLDS)
def test_every_fold_maps_each_character_once_to_a_different_one(name):
    table = letter_table(name)
    assert table and all(char != to for char, to in table.items())


def test_the_table_names_no_fold_that_is_not_documented():
    named = {f for row in load_yaml("letters.yaml")["letters"] for f in row["folds"]}
    assert named == set(FOLDS)
    with pytest.raises(ValueError, match="no fold named"):
        letter_table("nonsense")


def test_spelling_per_language():
    assert [spelling(lang) for lang in ("fa", "ar", "en", "zz", None)] == ["persian", "arabic", None, None, None]
    persian, arabic = Fold(letters="persian"), Fold(letters="arabic")
    assert fold("كيف حالك يا دكتر", persian) == "کیف حالک یا دکتر"
    assert fold("مدرسة خانۀ", persian) == "مدرسه خانه\u0654"
    assert fold("ی ک", arabic) == "ي ك" and fold("مستشفى", arabic) == "مستشفى"


def test_keyboard_fold_touches_only_the_arabic_keyboard_letters():
    assert fold("عليك مصطفى", KEYBOARD) == "علیک مصطفی"
    assert fold("مدرسة أحمد ۱۲", KEYBOARD) == "مدرسة أحمد ۱۲"


def test_match_fold_is_script_neutral():
    assert fold("الإجابة ﻋﻠﻲ خانۀ ۱۲ Straße", MATCH) == "الاجابه علی خانه 12 strasse"
    assert fold("مِی\u200cخواهم", MATCH) == "می خواهم"
    assert fold("بـیمار", MATCH) == "بـیمار"  # tatweel kept: the normalize step removes it first


def test_lexicon_folds_text_lowered_and_patterns_as_written():
    assert fold("  مؤمن ئ  ٱ ’s  ZWJ\u200dx بـیمار\u064b  ", LEXICON) == "مومن ی ا 's zwjx بیمار"
    assert fold(r"\Bخون\S", LEXICON_PATTERN) == r"\Bخون\S"
    assert fold("خانۀ", LEXICON) == "خانۀ"  # ۀ kept by the lexicon fold


def test_field_fold_reads_a_stray_tatweel_as_underscore_and_drops_elongation():
    assert fold("mmlu-professional_medicineـtranslation", FIELD) == "mmlu-professional_medicine_translation"
    assert fold("بـــیمار", FIELD) == "بیمار"
    assert fold(f" بيماري{ZWNJ}هاي  قلبي ", FIELD) == "بیماری های قلبی"


def test_digits_become_latin_one_for_one():
    text = "۰۹۱۲ ٣٤٥ 678"
    assert fold(text, DIGITS) == "0912 345 678" and len(fold(text, DIGITS)) == len(text)
    assert fold("12 ٣٤", Fold(digits="persian")) == "۱۲ ۳۴"
