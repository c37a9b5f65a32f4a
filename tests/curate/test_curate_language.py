"""Language ID restricted to the recipe's languages, with a confidence floor."""

from __future__ import annotations

from curate_helpers import qa, step

from medadapt.text.langid import LanguageDetector

SAMPLES = {
    "fa": ["سلام دکتر، من سه روز است که سردرد شدید دارم و قرص مسکن هم اثری ندارد.",
           "آیا مصرف قرص آهن در دوران بارداری عوارضی برای جنین دارد؟"],
    "ar": ["ما هي أعراض مرض السكري وكيف يمكن علاجه؟",
           "أعاني من ألم في المعدة بعد الأكل منذ أسبوع، ماذا أفعل؟"],
    "en": ["What are the symptoms of diabetes and how is it treated?",
           "I have had a stomach ache after eating for a week, what should I do?"],
}


def test_separates_persian_arabic_english():
    detector = LanguageDetector(["fa", "ar", "en"])
    for lang, texts in SAMPLES.items():
        for text in texts:
            detected, probability = detector.detect(text)
            assert detected == lang, text
            assert probability > 0.9


def test_step_relabels_mismatch_and_rejects_low_confidence():
    language = step({"step": "language", "min_confidence": 0.8})
    mislabelled = qa("1", SAMPLES["ar"][0], SAMPLES["ar"][1], lang="fa")
    unclear = qa("2", "؟؟", "12 34", lang="fa")
    fine = qa("3", SAMPLES["fa"][0], SAMPLES["fa"][1], lang="fa")
    result = language.apply([mislabelled, unclear, fine])
    assert [d.id for d in result.kept] == ["1", "3"]
    assert mislabelled.record["lang"] == "ar" and mislabelled.record["lang_declared"] == "fa"
    assert result.rejected[0].rule == "low_confidence"
    assert result.counters == {"relabelled fa→ar": 1}


def test_step_can_reject_mismatch():
    language = step({"step": "language", "on_mismatch": "reject"})
    result = language.apply([qa("1", SAMPLES["en"][0], SAMPLES["en"][1], lang="fa")])
    assert not result.kept and result.rejected[0].rule == "language_mismatch"
