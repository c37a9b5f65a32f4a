"""Small builders shared by the curate tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medadapt.curate import config as cfg
from medadapt.curate.records import Doc
from medadapt.curate.steps import Step, StepEnv, build_steps
from pydantic import TypeAdapter


def qa(id: str, question: str, answer: str, lang: str = "fa", source: str = "forum", **extra: Any) -> Doc:
    return Doc("qa", {"id": id, "source": source, "url": f"https://{source}/{id}", "lang": lang,
                      "question": question, "answer": answer, **extra})


def article(id: str, text: str, lang: str = "en", source: str = "magazine", title: str = "") -> Doc:
    return Doc("article", {"id": id, "source": source, "url": f"https://{source}/{id}", "lang": lang,
                           "title": title, "text": text})


def step(spec: dict[str, Any], languages: list[str] | None = None, **env: Any) -> Step:
    parsed = TypeAdapter(cfg.StepSpec).validate_python(spec)
    return build_steps([parsed], StepEnv(languages or ["fa", "ar", "en"], **env))[0]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


ANSWER_FA = ("دوست عزیز سردرد می تواند علل مختلفی داشته باشد. روزی ۵۰۰ میلی‌گرم استامینوفن مصرف کنید و اگر درد "
             "ادامه داشت به پزشک متخصص اعصاب مراجعه کنید؛ آزمایش خون و معاینه لازم است. فشار خون ۱۲۰/۸۰ طبیعی است.")
ARTICLE_EN = ("Asthma is a long-term condition of the airways. During an attack the muscles around the bronchi "
              "tighten, the lining swells and extra mucus narrows the passages further. Inhaled corticosteroids "
              "reduce inflammation over weeks, while bronchodilators relieve sudden symptoms within minutes.")
EXAM_Q = ("Which of the following enzymes is responsible for converting angiotensin I into angiotensin II in "
          "the pulmonary circulation?")

RECIPE = """\
name: curated
languages: [fa, en]
model: smollm2-135m
seed: 3
curate:
  inputs:
    - {path: qa.jsonl, kind: qa}
    - {path: articles.jsonl, kind: article}
  steps:
    - {step: normalize}
    - {step: language, min_confidence: 0.5}
    - {step: exact_dedup}
    - {step: near_dedup, threshold: 0.8, ngram: 3}
    - {step: length, min_words: 20}
    - {step: answer_length, min_words: 10}
    - {step: repetition}
    - {step: knowledge_density, min_keywords: 2}
    - {step: pii}
    - {step: decontaminate, extra: [exam.jsonl]}
  split: {by: random, test_fraction: 0.25}
"""


def make_project(folder: Path, n_qa: int = 40) -> Path:
    """A recipe folder with Q&A (duplicates, short answers, PII, a leaked exam question, a bad row),
    articles and an exam file; returns the recipe path."""
    rows = []
    for i in range(n_qa):
        rows.append({"id": f"q{i}", "source": f"site{i % 3}", "url": f"https://f/{i}", "lang": "fa",
                     "question": f"سوال شماره {i} درباره سردرد و فشار خون؟", "answer": f"{ANSWER_FA} مورد {i}.",
                     "fetched_at": "2024-01-01"})
    rows.append({**rows[0], "id": "dup"})
    rows.append({"id": "short", "source": "site0", "lang": "fa", "question": "سوال کوتاه؟", "answer": "برو دکتر"})
    rows.append({"id": "pii", "source": "site1", "lang": "fa", "question": "سوال درباره دیابت و قند خون؟",
                 "answer": ANSWER_FA + " با دکتر رضایی به شماره ۰۹۱۲۳۴۵۶۷۸۹ تماس بگیرید."})
    rows.append({"id": "leak", "source": "site2", "lang": "en", "question": EXAM_Q,
                 "answer": "ACE, the angiotensin converting enzyme, mostly in the lung capillaries; see a physician."})
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + ['{"id": "broken", "lang": "fa"}', "not json"]
    (folder / "qa.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_jsonl(folder / "articles.jsonl", [
        {"id": "a1", "source": "mag", "url": "https://m/1", "lang": "en", "title": "Asthma", "text": ARTICLE_EN},
        {"id": "a2", "source": "mag", "url": "https://m/2", "lang": "en", "title": "Tiny", "text": "Too short."},
    ])
    write_jsonl(folder / "exam.jsonl", [{"id": "x1", "question": EXAM_Q, "choices": ["ACE", "renin"], "answer": 0}])
    recipe = folder / "recipe.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    return recipe
