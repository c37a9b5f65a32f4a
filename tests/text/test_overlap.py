"""Shared word n-grams between texts, in the script-neutral form (curate's and evaluate's decontamination)."""

from __future__ import annotations

from medadapt.text.overlap import ContaminationIndex, EvalItem, match_tokens

QUESTION = "کدام یک از داروهای زیر در اختلال عملکرد کبد منع مصرف دارد و چرا باید از آن پرهیز کرد"


def test_match_tokens_fold_letters_digits_punctuation():
    assert match_tokens("كدام يك؟ ۱۲ (Liver)!") == ["کدام", "یک", "12", "liver"]


def test_index_finds_an_arabic_form_copy_and_the_shared_gram():
    index = ContaminationIndex([EvalItem("bench", "q1", QUESTION, "fa")], n=5, min_words=3)
    copy = "سلام. " + QUESTION.replace("ک", "ك").replace("ی", "ي") + " ممنون"
    item, gram = index.find(copy, "fa")
    assert item.id == "q1" and gram == "کدام یک از داروهای زیر"
    assert index.find("متن دیگری درباره سردرد و تب", "fa") is None


def test_short_items_must_appear_whole_and_very_short_ones_are_skipped():
    index = ContaminationIndex([EvalItem("b", "short", "علت تب چیست"), EvalItem("b", "tiny", "تب")], n=5, min_words=3)
    assert len(index) == 1
    assert index.find("پرسیدم علت تب چیست و جواب گرفتم")[0].id == "short"
    assert index.find("علت تب") is None
