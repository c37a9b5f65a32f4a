"""A benchmark ready to score: its questions, rejected rows, few-shot examples, style and pass mark."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from medadapt.records.kinds import MCQARecord
from medadapt.records.select import seen_values, select
from medadapt.errors import DataError
from medadapt.resources import DATA_SCHEME, missing_data_file, resolve_path
from medadapt.evaluate.mcqa.prompts import PromptSet
from medadapt.evaluate.mcqa.requests import select_fewshot
from medadapt.runs.hashing import hash_file

DEFINITIONS_FILE = Path(__file__).with_name("benchmarks.yaml")


@lru_cache(maxsize=1)
def definitions() -> dict[str, dict]:
    """Named benchmarks (data): file relative to the data folder, mapping, pass mark."""
    return yaml.safe_load(DEFINITIONS_FILE.read_text(encoding="utf-8"))


def locate_definition(name: str, data_dir: Path | None = None) -> tuple[Path, dict]:
    """The file of a named benchmark under ``data_dir`` (else the data folder ``data://`` references use), and
    its definition."""
    spec = definitions()[name]
    reference = DATA_SCHEME + spec["file"]
    try:
        path = data_dir / spec["file"] if data_dir else resolve_path(reference)
    except DataError as exc:
        raise DataError(exc.message, field=f"benchmark {name}") from None
    if not path.is_file():
        raise DataError(missing_data_file(reference, data_dir), field=f"benchmark {name}")
    return path, spec


def load_questions(path: Path, fmt: str = "mcqa", lang: str | None = None) -> tuple[list[MCQARecord], list[dict]]:
    """Multiple-choice records from any file the record importers read (JSONL of mcqa records by default);
    ``lang``: the language of every question, for a layout shared by several languages (MMedBench)."""
    from medadapt.records.importers import import_file

    result = import_file(path, fmt, lang=lang, stage="evaluate")
    if result.kind != "mcqa":
        raise DataError(f"format {fmt!r} gives {result.kind} records, not mcqa", file=str(path))
    return result.records, result.rejected


@dataclass
class PreparedBenchmark:
    name: str
    path: Path
    records: list[MCQARecord]
    rejected: list[dict] = field(default_factory=list)
    style: str = "letters"
    fewshot: dict[str, list[MCQARecord]] = field(default_factory=dict)
    pass_mark: float | None = None
    chat: bool = False
    prompts: PromptSet = field(default_factory=PromptSet)
    prompt_file: Path | None = None
    where: dict[str, str | list[str]] | None = None

    def describe(self) -> dict:
        """What results.json records about the benchmark itself (the prompt only when not the language's own)."""
        prompt = {"prompt": self.prompts.name} if self.prompts.name else {}
        if self.prompt_file is not None:
            prompt |= {"prompt_file": str(self.prompt_file), "prompt_file_sha256": hash_file(self.prompt_file)}
        return {
            "benchmark": self.name, "style": self.style, "file": str(self.path), "data_sha256": hash_file(self.path),
            "n": len(self.records), "rejected": len(self.rejected),
            "num_fewshot": max((len(v) for v in self.fewshot.values()), default=0),
            "fewshot_ids": sorted(r.id for v in self.fewshot.values() for r in v), "pass_mark": self.pass_mark,
            "chat_template": self.chat, **prompt, **({"where": self.where} if self.where else {}),
        }


@dataclass(frozen=True)
class BenchmarkSpec:
    """What to read and how to score it: a recipe's benchmark entry with its paths resolved, or the options of
    ``medadapt eval mcqa``."""

    name: str
    path: Path
    format: str = "mcqa"
    style: str = "letters"
    languages: tuple[str, ...] | None = None  # None: every language in the file
    limit: int | None = None
    num_fewshot: int = 0
    fewshot_path: Path | None = None
    pass_mark: float | None = None
    chat: bool = False
    prompt: str | None = None  # a prompts.yaml entry for every question; None: each question's language
    prompt_file: Path | None = None  # entries that extend or replace the shipped prompts
    lang: str | None = None  # every question's language, over what the file or mapping says
    where: dict[str, str | list[str]] | None = None  # only questions with these field values (an exam sitting)


def no_questions(path: Path, rejected: list[dict], why: str) -> DataError:
    """The one-line error of a benchmark left with nothing to score, naming the first rejected row's reason
    (a wrong mapping or format rejects every row alike)."""
    if rejected:
        why += f" ({len(rejected)} rows rejected; first: {rejected[0]['reason']})"
    return DataError(why, file=str(path))


def prepare_benchmark(spec: BenchmarkSpec) -> PreparedBenchmark:
    """Load and select questions. Few-shot examples drawn from the benchmark itself are removed from scoring.
    A benchmark with no question left to score is a :class:`DataError`, never an empty table."""
    prompts = PromptSet.load(spec.prompt, spec.prompt_file)
    loaded, rejected = load_questions(spec.path, spec.format, spec.lang)
    if not loaded:
        raise no_questions(spec.path, rejected, "no usable questions")
    records = [r for r in loaded if spec.languages is None or r.lang in spec.languages]
    if spec.where and records:
        chosen = select(records, spec.where).records
        if not chosen:
            raise no_questions(spec.path, [], f"where matched none of {len(records)} questions "
                                              f"({seen_values(records, spec.where)})")
        records = chosen
    if not records:
        wanted, found = ", ".join(spec.languages or ()), ", ".join(sorted({r.lang for r in loaded}))
        raise no_questions(spec.path, [], f"no questions in the recipe's languages ({wanted}); the file has {found}")
    fewshot: dict[str, list[MCQARecord]] = {}
    if spec.num_fewshot:
        if spec.fewshot_path is not None:
            pool, pool_rejected = load_questions(spec.fewshot_path, spec.format, spec.lang)
            rejected += pool_rejected
            fewshot = select_fewshot(pool, spec.num_fewshot)
        else:
            fewshot = select_fewshot(records, spec.num_fewshot)
            used = {r.id for examples in fewshot.values() for r in examples}
            records = [r for r in records if r.id not in used]
            if not records:
                raise no_questions(spec.path, [], f"every question is a few-shot example ({spec.num_fewshot} per "
                                                  f"subject); lower num_fewshot or give a fewshot file")
    if spec.limit:
        records = records[: spec.limit]
    return PreparedBenchmark(spec.name, spec.path, records, rejected, spec.style, fewshot, spec.pass_mark, spec.chat,
                             prompts, spec.prompt_file, spec.where)
