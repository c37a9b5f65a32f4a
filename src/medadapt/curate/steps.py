"""The curation steps: one small class per step, built from the recipe's list in the user's order.

A step sees the documents that survived the steps before it and returns those it keeps, those it removes
(each with a rule and a reason a person can read) and counters for the report. Steps know nothing of the
run directory or of any execution engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from medadapt.curate import config as cfg
from medadapt.curate.dedup import exact_key, near_duplicates
from medadapt.curate.filters import (
    Bounds,
    duplicate_line_fractions,
    duplicate_ngram_char_fraction,
    keyword_file,
    load_keywords,
    top_ngram_char_fraction,
)
from medadapt.curate.records import TEXT_FIELDS, Doc
from medadapt.records.importers import import_file
from medadapt.records.quarantine import rejection
from medadapt.errors import DataError, RecipeError
from medadapt.text.keywords import Lexicon
from medadapt.text.overlap import ContaminationIndex, EvalItem
from medadapt.text.segment import scaled, words


@dataclass
class Rejection:
    doc: Doc
    step: str
    rule: str
    reason: str
    cluster_id: str | None = None

    def to_json(self, stage: str) -> dict[str, Any]:
        """The rejected row (a document has no file: its reason is the step's own)."""
        cluster = {} if self.cluster_id is None else {"cluster_id": self.cluster_id}
        return rejection("", None, "", self.reason, self.doc.record, stage=stage, step=self.step,
                         rule=self.rule, kind=self.doc.kind, **cluster)


@dataclass
class StepResult:
    kept: list[Doc]
    rejected: list[Rejection]
    counters: dict[str, int] = field(default_factory=dict)


@dataclass
class StepEnv:
    """What steps may need from the recipe: its languages, seed, and evaluation files by name."""

    languages: list[str]
    seed: int = 0
    evaluation_files: dict[str, Path] = field(default_factory=dict)
    resolve: Callable[[str], Path] = Path
    evaluation_formats: dict[str, str] = field(default_factory=dict)  # data mapping per file; default mcqa JSONL


Verdict = tuple[str, str] | None  # (rule, reason) when a document is removed


class Step(ABC):
    name: ClassVar[str]
    #: kinds of document the step judges; others pass through untouched
    kinds: ClassVar[tuple[str, ...]] = ("qa", "article")

    def __init__(self, spec: Any, env: StepEnv):
        self.spec = spec
        self.env = env
        self.counters: Counter[str] = Counter()

    @abstractmethod
    def apply(self, docs: list[Doc]) -> StepResult:
        """Judge the whole set (deduplication needs it); per-document steps derive from :class:`DocStep`."""


class DocStep(Step):
    """A step that judges each document on its own."""

    def apply(self, docs: list[Doc]) -> StepResult:
        kept, rejected = [], []
        for doc in docs:
            verdict = self.check(doc) if doc.kind in self.kinds else None
            if verdict is None:
                kept.append(doc)
            else:
                rejected.append(Rejection(doc, self.name, *verdict))
        return StepResult(kept, rejected, dict(self.counters))

    @abstractmethod
    def check(self, doc: Doc) -> Verdict:
        """Judge (and possibly rewrite) one document."""


class NormalizeStep(DocStep):
    name = "normalize"

    def __init__(self, spec: cfg.NormalizeSpec, env: StepEnv):
        from medadapt.text.normalize import NormalizeOptions, Normalizer

        super().__init__(spec, env)
        self.normalize = Normalizer(NormalizeOptions(spec.digits, spec.remove_diacritics, spec.repair_zwnj,
                                                     spec.simplified_chinese))

    def check(self, doc: Doc) -> Verdict:
        before = doc.all_text()
        for name in TEXT_FIELDS[doc.kind]:
            if isinstance(doc.record.get(name), str):
                doc.record[name] = self.normalize(doc.record[name], doc.lang)
        self.counters["changed"] += doc.all_text() != before
        empty = [n for n in TEXT_FIELDS[doc.kind] if n != "title" and not doc.record.get(n)]
        return ("empty", f"{', '.join(empty)} empty after normalisation") if empty else None


class LanguageStep(DocStep):
    name = "language"

    def __init__(self, spec: cfg.LanguageSpec, env: StepEnv):
        from medadapt.text.langid import LanguageDetector, UnknownLanguages

        super().__init__(spec, env)
        try:
            self.detector = LanguageDetector(env.languages)
        except UnknownLanguages as exc:
            raise RecipeError("curate", [f"curate.steps.language: {exc}"]) from None

    def check(self, doc: Doc) -> Verdict:
        lang, probability = self.detector.detect(doc.all_text()[: self.spec.max_chars])
        if probability < self.spec.min_confidence:
            return "low_confidence", f"language unclear: {lang} at {probability:.2f} < {self.spec.min_confidence}"
        if lang != doc.lang:
            if self.spec.on_mismatch == "reject":
                return "language_mismatch", f"declared {doc.lang}, detected {lang} ({probability:.2f})"
            self.counters[f"relabelled {doc.lang}→{lang}"] += 1
            doc.record["lang_declared"] = doc.lang
            doc.record["lang"] = lang
        return None


class ExactDedupStep(Step):
    """Exact duplicates of the canonical text (for Q&A: of the chosen field), per kind."""

    name = "exact_dedup"

    def apply(self, docs: list[Doc]) -> StepResult:
        first: dict[tuple[str, bytes], Doc] = {}
        kept, rejected = [], []
        for doc in docs:
            key = (doc.kind, exact_key(doc.text(self.spec.qa_field)))
            original = first.setdefault(key, doc)
            if original is doc:
                kept.append(doc)
            else:
                what = self.spec.qa_field if doc.kind == "qa" else "text"
                rejected.append(Rejection(doc, self.name, "exact_duplicate", f"same {what} as {original.id}", original.id))
        return StepResult(kept, rejected)


class NearDedupStep(Step):
    """MinHash/LSH near duplicates per kind; the first document of a cluster is kept."""

    name = "near_dedup"

    def apply(self, docs: list[Doc]) -> StepResult:
        removed: dict[int, Rejection] = {}
        by_kind: dict[str, list[int]] = defaultdict(list)
        for index, doc in enumerate(docs):
            by_kind[doc.kind].append(index)
        s = self.spec
        for indices in by_kind.values():
            texts = [docs[i].text(s.qa_field) for i in indices]
            langs = [docs[i].lang for i in indices]
            for match in near_duplicates(texts, s.threshold, s.ngram, s.num_perm, self.env.seed, langs):
                doc, kept = docs[indices[match.index]], docs[indices[match.kept]]
                removed[indices[match.index]] = Rejection(
                    doc, self.name, "near_duplicate",
                    f"near duplicate of {kept.id} (estimated Jaccard {match.similarity:.2f} ≥ {s.threshold})", kept.id,
                )
        kept_docs = [d for i, d in enumerate(docs) if i not in removed]
        return StepResult(kept_docs, [removed[i] for i in sorted(removed)])


class LengthStep(DocStep):
    name = "length"
    kinds = ("article",)

    def __init__(self, spec: cfg.LengthSpec | cfg.AnswerLengthSpec, env: StepEnv):
        super().__init__(spec, env)
        self.bounds = Bounds(spec.min_words, spec.max_words, spec.min_chars, spec.max_chars)

    def check(self, doc: Doc) -> Verdict:
        violation = self.bounds.violation(doc.record["text"], doc.lang)
        return (violation[0], f"text: {violation[1]}") if violation else None


class AnswerLengthStep(LengthStep):
    name = "answer_length"
    kinds = ("qa",)

    def check(self, doc: Doc) -> Verdict:
        violation = self.bounds.violation(doc.record["answer"], doc.lang)
        return (violation[0], f"answer: {violation[1]}") if violation else None


class RepetitionStep(DocStep):
    name = "repetition"

    def check(self, doc: Doc) -> Verdict:
        s = self.spec
        text = doc.text("question+answer")
        tokens = words(text, doc.lang)
        if len(tokens) < scaled(s.min_words, doc.lang, "words"):
            return None
        lines, line_chars = duplicate_line_fractions(text)
        if lines > s.max_duplicate_line_fraction:
            return "duplicate_lines", f"{lines:.2f} of lines repeat (> {s.max_duplicate_line_fraction})"
        if line_chars > s.max_duplicate_line_char_fraction:
            return "duplicate_lines", f"{line_chars:.2f} of characters in repeated lines (> {s.max_duplicate_line_char_fraction})"
        for n, limit in sorted(s.max_top_ngram_char_fraction.items()):
            share = top_ngram_char_fraction(tokens, n)
            if share > limit:
                return "top_ngram", f"most frequent {n}-gram covers {share:.2f} of characters (> {limit})"
        for n, limit in sorted(s.max_duplicate_ngram_char_fraction.items()):
            share = duplicate_ngram_char_fraction(tokens, n)
            if share > limit:
                return "duplicate_ngrams", f"repeated {n}-grams cover {share:.2f} of characters (> {limit})"
        return None


class KnowledgeDensityStep(DocStep):
    name = "knowledge_density"

    def __init__(self, spec: cfg.KnowledgeDensitySpec, env: StepEnv):
        super().__init__(spec, env)
        self.matchers: dict[str, Lexicon] = {}
        missing = []
        for lang in env.languages:
            override = env.resolve(spec.keywords[lang]) if lang in spec.keywords else None
            if override is None and not keyword_file(lang).is_file():
                missing.append(lang)
                continue
            self.matchers[lang] = Lexicon(load_keywords(lang, override), lang, ignore_case=True)
        if missing:
            raise RecipeError("curate", [f"curate.steps[step=knowledge_density].keywords: no keyword list for "
                                         f"{', '.join(missing)}; name one file per language there"])

    def check(self, doc: Doc) -> Verdict:
        matcher = self.matchers.get(doc.lang)
        if matcher is None:
            return "no_keyword_list", f"no medical keyword list for language {doc.lang}"
        found, coverage = matcher.measure(doc.text("question+answer"))
        if len(found) < self.spec.min_keywords:
            return "few_keywords", f"{len(found)} distinct medical keywords < {self.spec.min_keywords}"
        if coverage < self.spec.min_coverage:
            return "low_coverage", f"keywords cover {coverage:.3f} of characters < {self.spec.min_coverage}"
        return None


class PIIStep(DocStep):
    """Redacts; never removes a document. Counts replacements per type."""

    name = "pii"

    def __init__(self, spec: cfg.PIISpec, env: StepEnv):
        from medadapt.curate.pii import Redactor

        super().__init__(spec, env)
        self.redactor = Redactor(spec.types)

    def check(self, doc: Doc) -> Verdict:
        found: Counter[str] = Counter()
        for name in TEXT_FIELDS[doc.kind]:
            if isinstance(doc.record.get(name), str):
                doc.record[name], counts = self.redactor.redact(doc.record[name], doc.lang)
                found += counts
        self.counters.update(found)
        self.counters["documents redacted"] += bool(found)
        return None


class EvalQuestion(BaseModel):
    """An evaluation item as decontamination needs it: any JSONL row with a question."""

    model_config = ConfigDict(extra="allow")
    id: str | int | None = None
    question: str


def _evaluation_questions(path: Path, fmt: str) -> Any:
    """The questions of an evaluation file: JSONL rows with a question, or any file a data mapping reads
    (an exam CSV, an MMLU spreadsheet)."""
    return import_file(path, fmt, stage="curate", model=EvalQuestion if fmt == "mcqa" else None)


def _lang(question: Any) -> str | None:
    """The language an evaluation row declares (for its words), if it declares one."""
    lang = getattr(question, "lang", None)
    return lang if isinstance(lang, str) else None


class DecontaminateStep(DocStep):
    name = "decontaminate"

    def __init__(self, spec: cfg.DecontaminateSpec, env: StepEnv):
        super().__init__(spec, env)
        if not env.evaluation_files:
            raise RecipeError("curate", ["curate.steps.decontaminate: no evaluation sets to check against "
                                         "(add evaluate.benchmarks to the recipe, or files under `extra`)"])
        items = []
        for benchmark, path in env.evaluation_files.items():
            result = _evaluation_questions(path, env.evaluation_formats.get(benchmark, "mcqa"))
            if not result.records:
                raise DataError("no evaluation questions to decontaminate against", file=str(path))
            self.counters[f"evaluation items: {benchmark}"] = len(result.records)
            self.counters[f"unreadable evaluation rows: {benchmark}"] = len(result.rejected)
            items += [EvalItem(benchmark, str(q.id if q.id is not None else row), q.question, _lang(q))
                      for row, q in enumerate(result.records, start=1)]
        self.index = ContaminationIndex(items, spec.ngram, spec.min_words)

    def check(self, doc: Doc) -> Verdict:
        hit = self.index.find(doc.all_text(), doc.lang)
        if hit is None:
            return None
        item, gram = hit
        return "contaminated", f"shares «{gram}» with {item.benchmark} item {item.id}"


STEPS: dict[str, type[Step]] = {
    "normalize": NormalizeStep, "language": LanguageStep, "exact_dedup": ExactDedupStep,
    "near_dedup": NearDedupStep, "length": LengthStep, "answer_length": AnswerLengthStep,
    "repetition": RepetitionStep, "knowledge_density": KnowledgeDensityStep, "pii": PIIStep,
    "decontaminate": DecontaminateStep,
}


def build_steps(specs: list[Any], env: StepEnv) -> list[Step]:
    return [STEPS[spec.step](spec, env) for spec in specs]
