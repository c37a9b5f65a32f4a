"""Length, answer-length, repetition and knowledge-density filters, and the shipped keyword lists."""

from __future__ import annotations

import pytest
from curate_helpers import article, qa, step

from medadapt.curate.filters import duplicate_line_fractions, load_keywords

MEDICAL_FA = ("برای درمان دیابت و فشار خون بالا به پزشک متخصص مراجعه کنید؛ آزمایش خون و "
              "سونوگرافی کلیه لازم است و قرص انسولین را طبق دوز تجویزشده مصرف کنید.")


PROSE = ("Asthma is a long-term condition of the airways. During an attack the muscles around the bronchi "
         "tighten, the lining swells and extra mucus narrows the passages further. Typical symptoms include "
         "wheezing, coughing at night, chest tightness and shortness of breath. Triggers differ between people: "
         "pollen, dust mites, cold air, exercise and respiratory infections are common ones. Inhaled "
         "corticosteroids reduce inflammation over weeks, while short-acting bronchodilators relieve sudden "
         "symptoms within minutes. A written action plan helps patients recognise when to seek urgent care.")


def test_article_length_filter_leaves_qa_alone():
    length = step({"step": "length", "min_words": 5, "max_chars": 100})
    docs = [article("short", "too short"), article("ok", "one two three four five six"),
            article("long", "word " * 40), qa("q", "?", "x")]
    result = length.apply(docs)
    assert [d.id for d in result.kept] == ["ok", "q"]
    assert {r.doc.id: r.rule for r in result.rejected} == {"short": "too_few_words", "long": "too_many_chars"}


def test_answer_length_filter():
    answer_length = step({"step": "answer_length", "min_words": 4, "max_words": 8})
    docs = [qa("1", "q", "به پزشک مراجعه کنید"), qa("2", "q", "کوتاه"), qa("3", "q", "یک " * 9),
            article("a", "x")]
    result = answer_length.apply(docs)
    assert [d.id for d in result.kept] == ["1", "a"]
    assert [r.reason for r in result.rejected] == ["answer: 1 words < 4", "answer: 9 words > 8"]


def test_repetition_filter_catches_boilerplate_not_prose():
    repetition = step({"step": "repetition", "min_words": 10})
    prose = article("prose", PROSE)
    lines = article("lines", "\n".join(["Click here to subscribe"] * 6 + ["Real content about asthma care."] * 1))
    spam = article("spam", "buy cheap pills now " * 30)
    result = repetition.apply([prose, lines, spam])
    assert [d.id for d in result.kept] == ["prose"]
    assert {r.doc.id: r.rule for r in result.rejected} == {"lines": "duplicate_lines", "spam": "top_ngram"}


def test_duplicate_line_fractions():
    assert duplicate_line_fractions("a\nb\na\na") == (0.5, 0.5)
    assert duplicate_line_fractions("") == (0.0, 0.0)


@pytest.mark.parametrize("lang", ["fa", "ar", "en"])
def test_keyword_lists_are_large_and_clean(lang):
    terms = load_keywords(lang)
    assert len(terms) >= 200
    assert all(t == t.strip() and t for t in terms)
    if lang == "fa":
        assert not any(c in t for t in terms for c in "كيى")  # normalised Persian spelling


def test_knowledge_density_step():
    density = step({"step": "knowledge_density", "min_keywords": 3, "min_coverage": 0.05})
    rich = qa("rich", "سوال درباره دیابت", MEDICAL_FA)
    chatty = qa("chatty", "سلام", "ممنون از لطف شما، خیلی خوشحال شدم که جواب دادید.")
    english = qa("en", "Is my blood pressure high?", "Hypertension and diabetes need treatment by a physician.", lang="en")
    result = density.apply([rich, chatty, english])
    assert [d.id for d in result.kept] == ["rich", "en"]
    assert result.rejected[0].rule == "few_keywords"


def test_knowledge_density_user_list_overrides(tmp_path):
    words = tmp_path / "en.txt"
    words.write_text("# my list\nfoo\nbar\n", encoding="utf-8")
    density = step({"step": "knowledge_density", "min_keywords": 2, "keywords": {"en": str(words)}}, ["en"])
    result = density.apply([qa("1", "foo", "bar", lang="en"), qa("2", "diabetes", "insulin", lang="en")])
    assert [d.id for d in result.kept] == ["1"]
