"""Red-flag detection latency: the time the safety layer adds to each user message before the model sees it
(language, normalisation, context masks, rules, semantic layer), on this CPU, in one process.

Two detectors over the same messages (the shipped development set, ``serve/redflags/data/dev.jsonl``, by default):
  1. the baseline: the rules alone (``SafetyLayer(semantic=False)``: lexicons, patterns, context masks);
  2. ours: rules and the semantic layer (character n-gram classifier), as ``medadapt chat`` and ``serve`` run it.

Each message is detected ``--repeat`` times (after one warm-up pass, which also trains the semantic layer); the
median and p95 per message are printed with recall and false alarms on the same set, so a speed-up bought by
missing emergencies shows. The ratio of ours to the baseline (median latency) is alone on the last line.

    python benchmarks/safety.py
    python benchmarks/safety.py --file tests/serve/redflags/heldout2.jsonl --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from medadapt.serve.redflags.rules import DATA
from medadapt.serve.redflags.semantic import read_jsonl
from medadapt.serve.safety import SafetyLayer


def measure(layer: SafetyLayer, rows: list[dict], repeat: int) -> dict[str, float]:
    for row in rows:  # warm-up
        layer.detection(row["text"])
    times: list[float] = []
    found = emergencies = alarms = ordinary = 0
    for round_ in range(repeat):
        for row in rows:
            began = time.perf_counter()
            raised = [f.category for f in layer.detection(row["text"]).findings]
            times.append((time.perf_counter() - began) * 1000)
            if round_ > 0:
                continue
            if row["category"] is None:
                ordinary += 1
                alarms += bool(raised)
            else:
                emergencies += 1
                found += row["category"] in raised
    ordered = sorted(times)
    return {"median ms": statistics.median(ordered), "p95 ms": ordered[int(0.95 * (len(ordered) - 1))],
            "recall %": 100 * found / emergencies, "false alarms %": 100 * alarms / ordinary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DATA / "dev.jsonl")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = read_jsonl(args.file)
    began = time.perf_counter()
    ours_layer = SafetyLayer()
    ours_layer.detection(rows[0]["text"])
    start_up = time.perf_counter() - began
    baseline = measure(SafetyLayer(semantic=False), rows, args.repeat)
    ours = measure(ours_layer, rows, args.repeat)
    print(f"{args.file}: {len(rows)} messages × {args.repeat}; semantic layer trained at start-up in {start_up:.1f} s")
    print(f"{'':30}" + "".join(f"{key:>16}" for key in ours))
    for name, figures in (("rules only (baseline)", baseline), ("rules + semantic (ours)", ours)):
        print(f"{name:30}" + "".join(f"{value:16.2f}" for value in figures.values()))
    print(f"ours ÷ baseline: median {ours['median ms'] / baseline['median ms']:.2f}×, "
          f"p95 {ours['p95 ms'] / baseline['p95 ms']:.2f}×")


if __name__ == "__main__":
    main()
