"""Multiple-choice scoring speed: lm-evaluation-harness's `hf` model versus medadapt, same model, same prompts.

Three settings: (1) zero-shot, answer letters; (2) zero-shot, option texts as continuations (acc_norm);
(3) 5-shot, answer letters. Both systems score the exact same (context, continuation) strings; the table
shows questions/s for each, the speed-up, and whether every prediction is identical. The geometric mean of
the three speed-ups is printed alone on the last line.

    python benchmarks/eval_mcqa.py                      # 200 questions of the bundled demo set, cycled
    python benchmarks/eval_mcqa.py --benchmark FILE [--format MAPPING]   # e.g. an exam CSV
    python benchmarks/eval_mcqa.py --quick              # 24 questions, under a minute or two
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from medadapt.records.kinds import MCQARecord
from medadapt.evaluate.mcqa.benchmark import load_questions
from medadapt.evaluate.mcqa.lm_eval_engine import lm_eval_model
from medadapt.evaluate.mcqa.predict import predict_loglik
from medadapt.evaluate.mcqa.requests import select_fewshot
from medadapt.models import resolve_model
from medadapt.models.loading import load_for_inference
from medadapt.resources import resource_path

SETTINGS = [("zero-shot letters", "letters", 0), ("zero-shot option texts", "cloze", 0), ("5-shot letters", "letters", 5)]


def first_questions(records: list[MCQARecord], n: int) -> list[MCQARecord]:
    """``n`` distinct questions; a file with fewer is cycled, each repeat numbered in its text: both systems
    score identical requests once, so plain repeats would time a fraction of the work."""
    picked = []
    for i in range(n):
        record, round_ = records[i % len(records)], i // len(records)
        question = f"{record.question} ({round_ + 1})" if round_ else record.question
        picked.append(record.model_copy(update={"id": f"{record.id}#{i}", "question": question}))
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--benchmark", type=Path, default=resource_path("demo/mcqa.jsonl"))
    parser.add_argument("--format", default="mcqa", help="mcqa JSONL or a data mapping (medadapt data formats)")
    parser.add_argument("-n", type=int, default=200, help="questions per setting")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="24 questions per setting")
    parser.add_argument("--settings", default="1,2,3", help="which settings to run, e.g. 2 or 1,3")
    args = parser.parse_args()
    n = 24 if args.quick else args.n

    console = Console()
    model, tokenizer = load_for_inference(args.model)
    lm = lm_eval_model(resolve_model(args.model), args.batch_size)
    pool, _ = load_questions(args.benchmark, args.format)
    records = first_questions(pool, n)

    table = Table(title=f"{args.model} · {n} questions of {args.benchmark.name} · batch {args.batch_size}")
    for column in ("setting", "lm-eval q/s", "medadapt q/s", "speed-up", "identical predictions"):
        table.add_column(column)
    speedups = []
    chosen = [SETTINGS[int(i) - 1] for i in args.settings.split(",")]
    for label, style, shots in chosen:
        fewshot = select_fewshot(pool, shots) if shots else None
        start = time.perf_counter()
        theirs = [p["pred"] for p in predict_loglik(model, tokenizer, records, args.batch_size, label, style, fewshot, lm)]
        lm_eval_seconds = time.perf_counter() - start
        start = time.perf_counter()
        ours = [p["pred"] for p in predict_loglik(model, tokenizer, records, args.batch_size, label, style, fewshot)]
        our_seconds = time.perf_counter() - start
        same = sum(a == b for a, b in zip(theirs, ours))
        speedups.append(lm_eval_seconds / our_seconds)
        table.add_row(label, f"{n / lm_eval_seconds:.2f}", f"{n / our_seconds:.2f}", f"{speedups[-1]:.2f}×",
                      f"{same}/{n}")
    console.print(table)
    print(f"geometric mean speed-up over lm-eval ({len(speedups)} settings):")
    print(f"{math.prod(speedups) ** (1 / len(speedups)):.2f}")


if __name__ == "__main__":
    main()
