"""Words and n-grams per language behind the segmenter registry."""

from __future__ import annotations

import importlib

import pytest

from medadapt.text.segment import (
    bare_words, char_tokens, joined, ngram_tokens, ngrams, per_english, scaled, segmenter, words,
)
from medadapt.text.tables import load_yaml


def test_space_delimited_words_keep_punctuation_bare_words_drop_it():
    text = "Is it (really) high? فشار خون‌ام بالاست."
    assert words(text, "en") == ["Is", "it", "(really)", "high?", "فشار", "خون\u200cام", "بالاست."]
    assert bare_words(text, "fa") == ["Is", "it", "really", "high", "فشار", "خون", "ام", "بالاست"]


def test_unlisted_languages_and_none_split_at_spaces():
    assert segmenter("xx") is segmenter(None) is segmenter("fa") is segmenter("fr")
    assert words("a  b\nc", "fr") == ["a", "b", "c"]


@pytest.mark.parametrize("lang", sorted(load_yaml("languages.yaml")))
def test_every_listed_segmenter_is_a_module_with_the_interface(lang):
    name = load_yaml("languages.yaml")[lang]["segmenter"]
    seg = importlib.import_module(f"medadapt.text.segmenters.{name}").SEGMENTER
    assert callable(seg.words) and callable(seg.bare_words)
    assert len(seg.boundaries) == 2 if seg.boundaries is not None else callable(seg.edges)


def test_chinese_words_from_jieba_and_edges_inside_compounds():
    text = "糖尿病肾病患者要小心，血糖高。"
    assert words(text, "zh") == ["糖尿病", "肾病", "患者", "要", "小心", "血糖高"]  # no punctuation words
    edges = segmenter("zh").edges(text)
    assert {0, 2, 3, 5, 13} <= edges  # 糖尿|病, 血糖|高: search mode's dictionary words inside longer ones
    assert 9 not in edges  # 小|心 is one word


def test_japanese_long_units_with_short_unit_edges():
    text = "風邪薬と痛み止めを飲みました。"
    assert words(text, "ja") == ["風邪薬", "と", "痛み止め", "を", "飲み", "まし", "た"]
    assert 2 in segmenter("ja").edges(text)  # 風邪|薬
    long = "頭痛があります。" * 3000  # over Sudachi's 49,149-byte input limit
    assert len(words(long, "ja")) == 3000 * len(words("頭痛があります。", "ja"))
    assert words("\ud800頭痛", "ja") == ["頭痛"]  # a lone surrogate (JSON allows one) is no word, and no error


def test_korean_words_as_written_and_bare_words_without_particles():
    text = "당뇨병은 고혈압이 있으면 병원에서 치료를 받아요."
    assert words(text, "ko") == text.split()
    assert bare_words(text, "ko") == ["당뇨병", "고혈압", "있으면", "병원", "치료", "받아요"]
    # the syllable before a particle decides: 이 follows a final consonant, 가 a vowel
    assert bare_words("아이 아이가 병이", "ko") == ["아이", "아이", "병"]
    assert bare_words("서울로 물로 집으로", "ko") == ["서울", "물", "집"]
    assert segmenter("ko").edges("당뇨병은 위험") == {0, 3, 4, 5, 7}


def test_ngram_tokens_per_language():
    assert char_tokens("2型糖尿病的HbA1c，ガン") == ["2", "型", "糖", "尿", "病", "的", "HbA1c", "ガ", "ン"]
    assert ngram_tokens("高血压, 头痛", "zh") == ["高", "血", "压", "头", "痛"]
    assert ngram_tokens("병원에서 치료를", "ko") == ngram_tokens("병원에서 치료를", "ko", bare=True) == ["병원", "치료"]
    assert ngram_tokens("Is it (high)?", "en") == ["Is", "it", "(high)?"]
    assert ngram_tokens("Is it (high)?", "en", bare=True) == ["Is", "it", "high"]
    assert joined(("高", "血", "压"), "zh") == "高血压" and joined(("a", "b"), "en") == "a b"


def test_recipe_counts_scale_only_where_a_language_counts_differently():
    assert per_english("en", "words") is None and scaled(30, "fa", "words") == 30
    factor = per_english("zh", "ngram")
    assert scaled(13, "zh", "ngram") == round(13 * factor) and scaled(0, "zh", "words") == 0
    assert scaled(1, "ko", "words") == 1  # never scaled down to nothing


def test_ngrams():
    assert ngrams(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")]
    assert ngrams(["a"], 2) == []
