"""The data stage: sources → ``stage2_chat.jsonl`` (+ ``stage2_chat_dev.jsonl``), ``stage1_text.jsonl``,
``stage1_chat.jsonl`` (the chats of sources marked ``stage: 1``),
``mixture.json``, ``rejected.jsonl`` and ``stats.json`` in ``runs/<name>/data/``.

Q&A, multiple-choice and NER records become chats; articles and text become stage-1 text chunks. Records in
a language the recipe does not train are counted, not rejected. With ``cutoff_len`` the model's tokenizer
measures every chat (truncation policy, token counts) and training/inference rendering is checked.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

from medadapt.format.config import DataSection
from medadapt.format.formatting import article_to_texts, to_chat
from medadapt.errors import DataError
from medadapt.records.losses import check_losses, describe, reasons
from medadapt.records.jsonl import write_json, write_jsonl
from medadapt.format.mixing import cap_sources, composition, mix_by
from medadapt.records.quarantine import FirstIds, rejection
from medadapt.records.kinds import ArticleRecord, ChatRecord, Record, TextRecord
from medadapt.recipe import Recipe
from medadapt.resources import resolve_path
from medadapt.runs.stage import RunDir, Stage, StageContext

TRAIN_FILE = "stage2_chat.jsonl"
DEV_FILE = "stage2_chat_dev.jsonl"
TEXT_FILE = "stage1_text.jsonl"
STAGE1_CHAT_FILE = "stage1_chat.jsonl"
MIXTURE_FILE = "mixture.json"
PARITY_SAMPLE = 5  # chats whose training/inference token ids are compared


def _chat_chars(chat: ChatRecord) -> int:
    return sum(len(m.content) for m in chat.messages)


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


def _language_table(read: Counter[str], skipped: dict[str, int], train: list[ChatRecord], dev: list[ChatRecord],
                    texts: list[Record]) -> dict[str, dict[str, int]]:
    """The report's per-language table (``by_language``): valid records read, those left out as not a recipe
    language, and what the mixture holds: training and dev chats and stage-1 text chunks."""
    counts = {"train chats": Counter(c.lang for c in train), "dev chats": Counter(c.lang for c in dev),
              "stage-1 text chunks": Counter(t.lang for t in texts)}
    return {lang: {"records read": read[lang], "not a recipe language": skipped.get(lang, 0),
                   **{label: counter[lang] for label, counter in counts.items()}} for lang in sorted(read)}


class FormatStage(Stage):
    name = "data"
    summary = "import, format chats with system prompts, mix languages and sources, cut stage-1 text."
    version = "3"


    def inputs(self, recipe: Recipe, recipe_dir: Path, run: RunDir) -> dict[str, Path]:
        paths = {place: resolve_path(src.path, recipe_dir, run.root) for place, src in recipe.data.all_sources()}
        for place, src in recipe.data.all_sources():
            if mapping := src.mapping_file():  # a user's own mapping file
                paths[f"{place}.mapping"] = resolve_path(mapping, recipe_dir)
        return paths

    def _read(self, ctx: StageContext, stats: dict[str, Any]
              ) -> tuple[list[Record], list[dict[str, Any]], set[str], dict[str, int]]:
        """The records of every source, the rows rejected, the ids of records from ``stage: 1`` sources, and the
        sources' own caps keyed by the ``source`` names their records carry (a file without ``source:`` is capped
        through the names its rows give)."""
        section = ctx.recipe.data
        languages = set(ctx.recipe.languages)
        records: list[Record] = []
        rejected: list[dict[str, Any]] = []
        ids = FirstIds()  # over every source (each file's own repeats are refused as it is read)
        first_stage: set[str] = set()
        caps: dict[str, int] = {}
        for place, src in section.all_sources():
            result = src.read(ctx.resolve(src.path), base_dir=ctx.recipe_dir, stage=self.name, seed=ctx.recipe.seed)
            stats["imported"][place] = {"path": src.path, "kind": result.kind, "records": len(result.records),
                                        "rejected": len(result.rejected)} | ({"left_out": result.left_out}
                                                                             if result.left_out else {})
            rejected += result.rejected
            if src.cap:
                caps.update({record.source: src.cap for record in result.records})
            stats["read_by_lang"].update(r.lang for r in result.records)
            other = Counter(r.lang for r in result.records if r.lang not in languages)
            lost = reasons(result.rejected) + Counter({f"language {lang} not in the recipe's languages "
                                                       f"{sorted(languages)}": n for lang, n in other.items()})
            if line := check_losses(src.path, result.rows, lost, section, keys="data."):
                ctx.console.print(f"[yellow]{line}", markup=True, highlight=False)
            for record in result.records:
                if record.lang not in languages:
                    stats["skipped_other_language"][record.lang] += 1  # valid, just not for this run
                elif duplicate := ids.duplicate(record.id, src.path):
                    rejected.append(rejection(src.path, None, "id", duplicate, record.model_dump(mode="json"),
                                              stage=self.name, step="select", rule="duplicate_id"))
                else:
                    records.append(record)
                    if src.stage == 1:
                        first_stage.add(record.id)
        return records, rejected, first_stage, caps

    def run(self, ctx: StageContext) -> dict[str, Any]:
        section = ctx.recipe.data
        seed = ctx.recipe.seed
        stats: dict[str, Any] = {"imported": {}, "skipped_other_language": Counter(), "read_by_lang": Counter()}
        records, rejected, first_stage, own_caps = self._read(ctx, stats)

        caps = {r.source: section.cap_per_source for r in records if section.cap_per_source} | own_caps
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
                                          record.model_dump(mode="json"), stage=self.name, step="format",
                                          rule="no_instruction_prompts"))

        random.Random(seed).shuffle(chats)
        stage1_chats = [c for c in chats if c.id in first_stage]
        chats = [c for c in chats if c.id not in first_stage]
        if section.max_examples:
            chats = chats[: section.max_examples]
        n_dev = round(len(chats) * section.dev_fraction)
        dev, train = chats[:n_dev], chats[n_dev:]

        tokens = None
        if section.cutoff_len:
            from medadapt.format.rendering import apply_cutoff, chat_tokens, render_parity_problems
            from medadapt.models.chat import load_chat_tokenizer

            # the recipe model's tokenizer with the recipe's chat template, as training will use it
            tokenizer = load_chat_tokenizer(ctx.recipe.model, ctx.recipe.chat_template, ctx.recipe_dir,
                                            ctx.recipe.trust_remote_code)
            stats["render_parity_problems"] = [p for c in train[:PARITY_SAMPLE] for p in render_parity_problems(tokenizer, c)]
            for problem in stats["render_parity_problems"]:
                ctx.console.print(f"[red]chat template: {problem}")
            train, dropped, stats["truncation"] = apply_cutoff(tokenizer, train, section.cutoff_len, section.truncation)
            dev, dev_dropped, stats["truncation_dev"] = apply_cutoff(tokenizer, dev, section.cutoff_len, section.truncation)
            stage1_chats, first_dropped, stats["truncation_stage1"] = apply_cutoff(
                tokenizer, stage1_chats, section.cutoff_len, section.truncation)
            rejected += dropped + dev_dropped + first_dropped

            def tokens(record: Record) -> int:
                if isinstance(record, ChatRecord):
                    return chat_tokens(tokenizer, record)
                return len(tokenizer(record.text, add_special_tokens=False)["input_ids"])

        train, chat_mix = _mix(train, section, seed)
        random.Random(seed + 1).shuffle(train)
        texts, text_mix = _mix(texts, section, seed, require_all=False) if texts else (texts, [])
        stage1_chats, stage1_mix = _mix(stage1_chats, section, seed, require_all=False) if stage1_chats else ([], [])

        if not train and not texts and not stage1_chats and not section.allow_empty:
            raise DataError(f"kept 0 training chats and 0 stage-1 text chunks from {len(records)} records"
                            + (f": {describe(reasons(rejected))}" if rejected else "")
                            + " (set data.allow_empty if intended)", file=", ".join(s.path for _, s in section.all_sources()))
        write_jsonl(ctx.out / TRAIN_FILE, train)
        write_jsonl(ctx.out / DEV_FILE, dev)
        write_jsonl(ctx.out / TEXT_FILE, texts)
        write_jsonl(ctx.out / STAGE1_CHAT_FILE, stage1_chats)
        write_jsonl(ctx.out / "rejected.jsonl", rejected)
        mixture = {
            "stage2_chat": {"mix": chat_mix, **composition(train, _chat_chars, tokens)},
            "stage1_text": {"mix": text_mix, **composition(texts, lambda t: len(t.text), tokens)},
            "stage1_chat": {"mix": stage1_mix, **composition(stage1_chats, _chat_chars, tokens)},
            "capped": capped,
        }
        write_json(ctx.out / MIXTURE_FILE, mixture)

        stats.update({
            "train": len(train),
            "dev": len(dev),
            "stage1_text": len(texts),
            "stage1_chat": len(stage1_chats),
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
        stats["by_language"] = _language_table(stats.pop("read_by_lang"), stats["skipped_other_language"], train,
                                               dev, texts)
        write_json(ctx.out / "stats.json", stats)
        ctx.console.print(f"{len(train)} training chats, {len(dev)} dev, {len(texts)} stage-1 text chunks, "
                          f"{len(rejected)} rejected rows")
        if rejected:
            ctx.console.print(f"[yellow]rejected rows with reasons: {ctx.run.stage_dir(self.name) / 'rejected.jsonl'}")
        return {k: stats[k] for k in ("train", "dev", "stage1_text", "rejected")}
