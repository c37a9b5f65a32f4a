"""Keyword matching through one Lexicon: whole words of the language, literal terms or expressions."""

from __future__ import annotations

import re

import pytest

from medadapt.text.keywords import Lexicon


def test_counts_distinct_terms_and_coverage():
    lexicon = Lexicon(["blood pressure", "blood", "diabetes"], "en", ignore_case=True)
    text = "Diabetes raises blood pressure; diabetes again."
    found, coverage = lexicon.measure(text)
    assert found == {"diabetes", "blood pressure"}  # longest term first: "blood" is not counted inside it
    assert coverage == pytest.approx((8 + 13 + 8) / len(text.replace(" ", "")))
    assert lexicon.measure("") == (set(), 0.0)


def test_whole_words_only():
    lexicon = Lexicon(["blood", "بیماری"], "fa")
    assert not lexicon.search("bloody bloodstream") and lexicon.search("(blood)")
    assert lexicon.measure("بیماری\u200cها")[0] == {"بیماری"}  # a ZWNJ ends a Persian word
    assert not lexicon.search("بیماریها")
    assert not Lexicon(["blood"]).search("BLOOD") and Lexicon(["blood"], ignore_case=True).search("BLOOD")


def test_terms_are_literal_unless_regex():
    assert Lexicon(["a.c"]).search("a.c") and not Lexicon(["a.c"]).search("abc")
    assert Lexicon(["a.c"], regex=True).search("abc")


def test_one_expression_compiles_as_written():
    lexicon = Lexicon(["(?i)chest(?! wall)"], regex=True, whole_words=False)
    assert lexicon.pattern.pattern == "(?i)chest(?! wall)"
    assert lexicon.search("CHEST pain") and not lexicon.search("chest wall")
    with pytest.raises(re.error):
        Lexicon(["(unclosed"], regex=True, whole_words=False)


def test_chinese_terms_match_on_word_edges_not_inside_words():
    lexicon = Lexicon(["心", "糖尿病", "肾病", "血糖", "CT"], "zh", ignore_case=True)
    text = "糖尿病肾病患者要小心，血糖高时做ct检查。"
    found, coverage = lexicon.measure(text)
    assert found == {"糖尿病", "肾病", "血糖", "ct"}  # no 心 in 小心 "careful"; 血糖 inside the word 血糖高
    assert coverage == pytest.approx((3 + 2 + 2 + 2) / len(text))
    assert [m.span() for m in lexicon.finditer(text)] == [(0, 3), (3, 5), (11, 13), (16, 18)]
    assert Lexicon(["心脏"], "zh").search("他的心脏不好") and not Lexicon(["心"], "zh").search("他的心脏不好")


def test_japanese_terms_match_inside_compounds_but_not_across_words():
    lexicon = Lexicon(["がん", "風邪", "薬", "痛み止め", "高血圧"], "ja")
    text = "がんばって高血圧の薬と風邪薬を飲んだ。"
    assert [m.group() for m in lexicon.finditer(text)] == ["高血圧", "薬", "風邪", "薬"]  # がん not in がんばる
    assert Lexicon(["胃がん"], "ja").search("父は胃がんの手術を受けた")


def test_korean_terms_match_before_a_particle():
    lexicon = Lexicon(["당뇨병", "혈압", "고혈압"], "ko")
    found, _ = lexicon.measure("당뇨병은 위험하고 고혈압이 있으면 혈압을 재세요.")
    assert found == {"당뇨병", "고혈압", "혈압"}
    assert not lexicon.search("당뇨병환자")  # inside a longer word: not a whole word


def test_regex_terms_on_word_edges():
    lexicon = Lexicon(["胸[痛闷]"], "zh", regex=True)
    assert [m.group() for m in lexicon.finditer("突然胸痛，还有胸闷")] == ["胸痛", "胸闷"]
