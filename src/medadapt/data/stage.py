"""The format stage: Q&A files → ``data/stage2_chat.jsonl`` (+ dev split), ``rejected.jsonl``, ``stats.json``."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from medadapt.data.formatting import qa_to_chat
from medadapt.data.jsonl import read_records, write_jsonl
from medadapt.data.records import QARecord
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.stage import RunDir, Stage, StageContext

TRAIN_FILE = "stage2_chat.jsonl"
DEV_FILE = "stage2_chat_dev.jsonl"


class FormatStage(Stage):
    name = "data"

    def config(self, recipe: Recipe) -> dict[str, Any]:
        return {"data": recipe.data.model_dump(mode="json"), "languages": recipe.languages, "seed": recipe.seed}

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        return {f"qa.{i}": resolve_path(src.path, recipe_dir, run.root) for i, src in enumerate(recipe.data.qa)}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        section = ctx.recipe.data
        languages = set(ctx.recipe.languages)
        kept: list[QARecord] = []
        rejected: list[dict[str, Any]] = []
        seen_ids: set[str] = set()
        other_language: Counter[str] = Counter()
        for source in section.qa:
            path = ctx.resolve(source.path)
            result = read_records(path, QARecord, stage=self.name)
            rejected += result.rejected
            for record in result.records:
                if source.source:
                    record.source = source.source
                if record.lang not in languages:
                    other_language[record.lang] += 1  # valid data, just not for this run: counted, not rejected
                    continue
                if record.id in seen_ids:
                    rejected.append({"id": record.id, "stage": self.name, "step": "select", "field": "id",
                                     "reason": f"{path}: id: duplicate id {record.id!r}",
                                     "record": record.model_dump(mode="json")})
                    continue
                seen_ids.add(record.id)
                kept.append(record)

        random.Random(ctx.recipe.seed).shuffle(kept)
        if section.max_examples:
            kept = kept[: section.max_examples]
        chats = [qa_to_chat(r, section.system_prompt) for r in kept]
        n_dev = round(len(chats) * section.dev_fraction)
        dev, train = chats[:n_dev], chats[n_dev:]
        write_jsonl(ctx.out / TRAIN_FILE, train)
        write_jsonl(ctx.out / DEV_FILE, dev)
        write_jsonl(ctx.out / "rejected.jsonl", rejected)

        stats = {
            "train": len(train),
            "dev": len(dev),
            "rejected": len(rejected),
            "by_lang": dict(Counter(c.lang for c in train)),
            "by_source": dict(Counter(c.source for c in train)),
            "skipped_other_language": dict(other_language),
            "rejected_by": dict(Counter(f"{r['step']}: {r['field']}" for r in rejected)),
        }
        (ctx.out / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False), encoding="utf-8")
        ctx.console.print(f"{len(train)} training chats, {len(dev)} dev, {len(rejected)} rejected rows")
        if rejected:
            ctx.console.print(f"[yellow]rejected rows with reasons: {ctx.run.stage_dir(self.name) / 'rejected.jsonl'}")
        return {k: stats[k] for k in ("train", "dev", "rejected")}
