"""The data stage: sources → ``stage2_chat.jsonl`` (+ ``stage2_chat_dev.jsonl``), ``stage1_text.jsonl``,
``mixture.json``, ``rejected.jsonl`` and ``stats.json`` in ``runs/<name>/data/``.

Q&A, multiple-choice and NER records become chats; articles and text become stage-1 text chunks. Records in
a language the recipe does not train are counted, not rejected. With ``cutoff_len`` the model's tokenizer
measures every chat (truncation policy, token counts) and training/inference rendering is checked.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from medadapt.data.config import DataSection
from medadapt.data.formatting import article_to_texts, to_chat
from medadapt.data.importers import import_file
from medadapt.data.jsonl import write_jsonl
from medadapt.data.mixing import cap_sources, composition, mix_by
from medadapt.data.quarantine import rejection
from medadapt.data.mapping import shipped_mappings
from medadapt.data.records import ArticleRecord, ChatRecord, Record, TextRecord
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.stage import RunDir, Stage, StageContext

TRAIN_FILE = "stage2_chat.jsonl"
DEV_FILE = "stage2_chat_dev.jsonl"
TEXT_FILE = "stage1_text.jsonl"
MIXTURE_FILE = "mixture.json"
PARITY_SAMPLE = 5  # chats whose training/inference token ids are compared


def _chat_chars(chat: ChatRecord) -> int:
    return sum(len(m.content) for m in chat.messages)


def load_data_tokenizer(recipe: Recipe, recipe_dir: Path) -> Any:
    """The recipe model's tokenizer with the recipe's chat template (as training will use it)."""
    from transformers import AutoTokenizer

    from medadapt.models import resolve_model
    from medadapt.models.templates import load_chat_template, prepare_chat_tokenizer

    template = load_chat_template(recipe.chat_template, recipe_dir) if recipe.chat_template else None
    return prepare_chat_tokenizer(AutoTokenizer.from_pretrained(resolve_model(recipe.model)), template, recipe.model)


def _mix(records: list[Record], section: DataSection, seed: int, require_all: bool = True,
         ) -> tuple[list[Record], list[dict[str, Any]]]:
    """``mix.by_source`` then ``mix.by_lang``; stage-1 text (``require_all=False``) may lack some of them."""
    reports = []
    mix = section.mix
    if mix and mix.by_source:
        records, report = mix_by(records, "source", mix.by_source, seed, None if mix.by_lang else mix.total,
                                 mix.upsample, require_all)
        reports.append(report)
    if mix and mix.by_lang:
        records, report = mix_by(records, "lang", mix.by_lang, seed, mix.total, mix.upsample, require_all)
        reports.append(report)
    return records, reports


class FormatStage(Stage):
    name = "data"
    version = "2"

    def config(self, recipe: Recipe) -> dict[str, Any]:
        config = {"data": recipe.data.model_dump(mode="json"), "languages": recipe.languages, "seed": recipe.seed}
        if recipe.data.cutoff_len:
            config.update(model=recipe.model, chat_template=recipe.chat_template)
        return config

    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        paths = {place: resolve_path(src.path, recipe_dir, run.root) for place, src in recipe.data.all_sources()}
        for place, src in recipe.data.all_sources():
            if src.mapping and src.mapping not in shipped_mappings():  # a user's own mapping file
                paths[f"{place}.mapping"] = resolve_path(src.mapping, recipe_dir)
        return paths

    def _read(self, ctx: StageContext, stats: dict[str, Any]) -> tuple[list[Record], list[dict[str, Any]]]:
        section = ctx.recipe.data
        languages = set(ctx.recipe.languages)
        records: list[Record] = []
        rejected: list[dict[str, Any]] = []
        seen: set[str] = set()
        for place, src in section.all_sources():
            result = import_file(ctx.resolve(src.path), src.reader, lang=src.lang, source=src.source,
                                 base_dir=ctx.recipe_dir, stage=self.name)
            stats["imported"][place] = {"path": src.path, "kind": result.kind, "records": len(result.records),
                                        "rejected": len(result.rejected)}
            rejected += result.rejected
            for record in result.records:
                if record.lang not in languages:
                    stats["skipped_other_language"][record.lang] += 1  # valid, just not for this run
                elif record.id in seen:
                    rejected.append(rejection(src.path, None, "id", f"duplicate id {record.id!r} (also in an "
                                              "earlier source)", record.model_dump(mode="json"), stage=self.name,
                                              step="select"))
                else:
                    seen.add(record.id)
                    records.append(record)
        return records, rejected

    def run(self, ctx: StageContext) -> dict[str, Any]:
        section = ctx.recipe.data
        seed = ctx.recipe.seed
        stats: dict[str, Any] = {"imported": {}, "skipped_other_language": Counter()}
        records, rejected = self._read(ctx, stats)

        caps = {r.source: section.cap_per_source for r in records if section.cap_per_source}
        caps.update({src.source: src.cap for _, src in section.all_sources() if src.cap and src.source})
        records, capped = cap_sources(records, caps, seed)

        chats: list[ChatRecord] = []
        texts: list[TextRecord] = []
        for record in records:
            if isinstance(record, (ArticleRecord, TextRecord)):
                texts += article_to_texts(record, section.text_chunk_chars)
                continue
            try:
                chats.append(to_chat(record, section.system_prompt))
            except ValueError as exc:
                rejected.append(rejection(f"record {record.id}", None, "lang", str(exc),
                                          record.model_dump(mode="json"), stage=self.name, step="format"))

        random.Random(seed).shuffle(chats)
        if section.max_examples:
            chats = chats[: section.max_examples]
        n_dev = round(len(chats) * section.dev_fraction)
        dev, train = chats[:n_dev], chats[n_dev:]

        tokens = None
        if section.cutoff_len:
            from medadapt.data.rendering import apply_cutoff, chat_tokens, render_parity_problems

            tokenizer = load_data_tokenizer(ctx.recipe, ctx.recipe_dir)
            stats["render_parity_problems"] = [p for c in train[:PARITY_SAMPLE] for p in render_parity_problems(tokenizer, c)]
            for problem in stats["render_parity_problems"]:
                ctx.console.print(f"[red]chat template: {problem}")
            train, dropped, stats["truncation"] = apply_cutoff(tokenizer, train, section.cutoff_len, section.truncation)
            dev, dev_dropped, stats["truncation_dev"] = apply_cutoff(tokenizer, dev, section.cutoff_len, section.truncation)
            rejected += dropped + dev_dropped

            def tokens(record: Record) -> int:
                if isinstance(record, ChatRecord):
                    return chat_tokens(tokenizer, record)
                return len(tokenizer(record.text, add_special_tokens=False)["input_ids"])

        train, chat_mix = _mix(train, section, seed)
        random.Random(seed + 1).shuffle(train)
        texts, text_mix = _mix(texts, section, seed, require_all=False) if texts else (texts, [])

        write_jsonl(ctx.out / TRAIN_FILE, train)
        write_jsonl(ctx.out / DEV_FILE, dev)
        write_jsonl(ctx.out / TEXT_FILE, texts)
        write_jsonl(ctx.out / "rejected.jsonl", rejected)
        mixture = {
            "stage2_chat": {"mix": chat_mix, **composition(train, _chat_chars, tokens)},
            "stage1_text": {"mix": text_mix, **composition(texts, lambda t: len(t.text), tokens)},
            "capped": capped,
        }
        (ctx.out / MIXTURE_FILE).write_text(json.dumps(mixture, indent=2, ensure_ascii=False), encoding="utf-8")

        stats.update({
            "train": len(train),
            "dev": len(dev),
            "stage1_text": len(texts),
            "rejected": len(rejected),
            "by_lang": dict(Counter(c.lang for c in train)),
            "by_source": dict(Counter(c.source for c in train)),
            "capped": capped,
            "mix": [{"by": m["by"], "max_share_error": m["max_share_error"],
                     "groups": {k: [g["intended_share"], g["achieved_share"]] for k, g in m["groups"].items()}}
                    for m in chat_mix],
            "rejected_by": dict(Counter(f"{r['step']}: {r['field']}" for r in rejected)),
        })
        stats["skipped_other_language"] = dict(stats["skipped_other_language"])
        (ctx.out / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False), encoding="utf-8")
        ctx.console.print(f"{len(train)} training chats, {len(dev)} dev, {len(texts)} stage-1 text chunks, "
                          f"{len(rejected)} rejected rows")
        if rejected:
            ctx.console.print(f"[yellow]rejected rows with reasons: {ctx.run.stage_dir(self.name) / 'rejected.jsonl'}")
        return {k: stats[k] for k in ("train", "dev", "stage1_text", "rejected")}
