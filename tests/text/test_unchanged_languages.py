"""The languages that write spaces keep their outputs: normalisation, words, n-gram tokens, shingles, length
reasons and keyword matches of en, fa and ar text are hashed. The hash was recorded when the Chinese,
Japanese and Korean rules were added, once they were shown to change nothing there: the same hash over the
shipped keyword lists, and ``medadapt curate`` on the demo files, matched the code before them byte for
byte."""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from pathlib import Path

from medadapt.curate.dedup import shingles
from medadapt.curate.filters import Bounds
from medadapt.text.keywords import Lexicon
from medadapt.text.normalize import Normalizer
from medadapt.text.overlap import match_tokens
from medadapt.text.segment import bare_words, words

TERMS = {
    "en": ["blood pressure", "blood", "fever", "diabetes", "pain", "doctor", "infection", "heart", "asthma"],
    "fa": ["فشار خون", "سردرد", "دیابت", "پزشک", "درد", "تب", "عفونت", "قلب", "بیماری"],
    "ar": ["ضغط الدم", "السكري", "الطبيب", "الحمل", "الصداع", "الحمى", "ألم"],
}
EXPECTED = "0db3d43c3f473a0d8f7d8603437799e743ba2537abe60cc471395c1e9f8b3a08"


def _texts() -> list[tuple[str, str]]:
    demo = files("medadapt") / "resources" / "demo"
    rows = [json.loads(line) for name in ("qa.jsonl", "articles.jsonl", "mcqa.jsonl")
            for line in (demo / name).read_text(encoding="utf-8").splitlines()]
    rows += [json.loads(line) for line in (Path(__file__).parent / "data" / "unchanged.jsonl").read_text(
        encoding="utf-8").splitlines()]
    return [(row["lang"], row[key]) for row in rows for key in ("question", "answer", "title", "text")
            if isinstance(row.get(key), str)]


def test_space_languages_give_the_outputs_they_gave_before():
    normalize, digest = Normalizer(), hashlib.sha256()
    lexicons = {lang: Lexicon(terms, lang, ignore_case=True) for lang, terms in TERMS.items()}
    bounds = Bounds(min_words=40, max_words=120, min_chars=100, max_chars=600)
    texts = _texts()
    assert {lang for lang, _ in texts} == {"en", "fa", "ar"} and len(texts) == 414
    for lang, text in texts:
        text = normalize(text, lang)
        found, coverage = lexicons[lang].measure(text)
        out = [text, words(text, lang), bare_words(text, lang), match_tokens(text, lang), shingles(text, 5, lang),
               bounds.violation(text, lang), sorted(found), round(coverage, 12)]
        digest.update(json.dumps(out, ensure_ascii=False).encode("utf-8"))
    assert digest.hexdigest() == EXPECTED
