"""How well the safety layer's detector does on a set of labelled messages (``medadapt safety eval``).

A set is JSONL: ``{"lang", "category", "text"}``, ``category`` null for an ordinary message that must raise
nothing. An emergency counts as found when its category is among those raised (another category alone is a
miss: its guidance would be the wrong one); an ordinary message that raises any category is a false alarm.
Latency is the wall time of one detection (language, normalisation, context, rules, semantic layer) per
message, after one warm-up message.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from medadapt.serve.redflags.detector import Detection
from medadapt.serve.redflags.semantic import read_jsonl


class DetectsRedFlags(Protocol):
    def detection(self, text: str) -> Detection: ...


@dataclass
class Tally:
    emergencies: int = 0
    found: int = 0
    ordinary: int = 0
    false_alarms: int = 0

    @property
    def recall(self) -> float | None:
        return self.found / self.emergencies if self.emergencies else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.ordinary if self.ordinary else None


@dataclass
class Report:
    file: str
    messages: int
    by_language: dict[str, Tally]
    by_category: dict[str, dict[str, Tally]]  # category → language → tally
    latency_ms: dict[str, float]
    misses: list[dict[str, Any]] = field(default_factory=list)  # emergencies not found
    false_alarms: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def tally(t: Tally) -> dict[str, Any]:
            return {**asdict(t), "recall": t.recall, "false_alarm_rate": t.false_alarm_rate}

        return {"file": self.file, "messages": self.messages, "latency_ms": self.latency_ms,
                "by_language": {lang: tally(t) for lang, t in self.by_language.items()},
                "by_category": {c: {lang: tally(t) for lang, t in langs.items()} for c, langs in self.by_category.items()},
                "misses": self.misses, "false_alarms": self.false_alarms}


def evaluate(layer: DetectsRedFlags, path: Path) -> Report:
    rows = read_jsonl(path)
    layer.detection(rows[0]["text"])  # warm-up: the semantic layer is trained on first use
    by_language: dict[str, Tally] = defaultdict(Tally)
    by_category: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    times, misses, alarms = [], [], []
    for row in rows:
        start = time.perf_counter()
        detection = layer.detection(row["text"])
        times.append((time.perf_counter() - start) * 1000)
        raised = [f.category for f in detection.findings]
        lang, expected = row["lang"], row["category"]
        total = by_language[lang]
        if expected is None:
            total.ordinary += 1
            if raised:
                total.false_alarms += 1
                alarms.append({"lang": lang, "text": row["text"], "raised": raised,
                               "evidence": [f"{f.category}: {f.source} {f.evidence}" for f in detection.findings]})
            continue
        cell = by_category[expected][lang]
        total.emergencies += 1
        cell.emergencies += 1
        if expected in raised:
            total.found += 1
            cell.found += 1
        else:
            misses.append({"lang": lang, "category": expected, "text": row["text"], "raised": raised,
                           "set_aside": detection.set_aside})
    ordered = sorted(times)
    latency = {"median": round(statistics.median(ordered), 2),
               "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
               "max": round(ordered[-1], 2)}
    return Report(str(path), len(rows), dict(by_language), {c: dict(v) for c, v in by_category.items()},
                  latency, misses, alarms)
