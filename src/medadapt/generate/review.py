"""The human-review queue (BiMediX): every translation scored below ``below`` plus a seeded random share of
the others, one row per translated field, as CSV (for spreadsheets) and JSONL. Reviewers fill ``decision``
(accept | reject | edit) and, for edit, ``edit``; the recipe's ``review.decisions`` file is applied on the
next run. A row that cannot be applied is rejected with its file, row and field, never silently ignored."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

from medadapt.records.quarantine import rejection
from medadapt.generate.config import ReviewConfig
from medadapt.generate.errors import GenerateError

COLUMNS = ("id", "field", "index", "source_lang", "target_lang", "source", "translation", "score", "why",
           "decision", "edit")
DECISIONS = {"accept", "reject", "edit"}


def select_for_review(rows: list[dict[str, Any]], config: ReviewConfig, seed: int) -> list[tuple[dict, str]]:
    """(record, why) for every low-score record and a random ``sample_high`` share of the others."""
    low = [(r, "low score") for r in rows if r["translation"]["score"] < config.below]
    high = [r for r in rows if r["translation"]["score"] >= config.below]
    sampled = random.Random(seed).sample(high, round(len(high) * config.sample_high)) if high else []
    chosen = {id(r) for r in sampled}
    return low + [(r, "random sample") for r in high if id(r) in chosen]


def review_rows(record: dict[str, Any], why: str) -> list[dict[str, Any]]:
    translation = record["translation"]
    rows = []
    for key, source in translation["source"].items():
        values = list(zip(source, record[key])) if isinstance(source, list) else [(source, record[key])]
        for index, (original, translated) in enumerate(values):
            rows.append({"id": record["id"], "field": key, "index": index if isinstance(source, list) else "",
                         "source_lang": translation["from_lang"], "target_lang": record["lang"], "source": original,
                         "translation": translated, "score": translation["score"], "why": why,
                         "decision": "", "edit": ""})
    return rows


def export_queue(rows: list[dict[str, Any]], folder: Path, stem: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{stem}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with (folder / f"{stem}.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return len(rows)


def read_decisions(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number, row) of a reviewers' CSV or JSONL file; rows without a decision are left out."""
    if not path.is_file():
        raise GenerateError("file not found", file=str(path), field="review.decisions")
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [(n, row) for n, row in enumerate(csv.DictReader(handle), start=2)]
    else:
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((n, json.loads(line)))
                except ValueError as exc:
                    raise GenerateError(f"invalid JSON: {exc}", file=str(path), row=n) from None
    return [(n, row) for n, row in rows if str(row.get("decision") or "").strip()]


def apply_decisions(records: list[dict[str, Any]], path: Path, stem: str) -> tuple[list[dict], list[dict]]:
    """Records after the reviewers' decisions, and the rejections (reviewer rejects and unusable rows)."""
    by_id = {r["id"]: r for r in records}
    dropped: dict[str, tuple[int, str]] = {}
    problems = []

    def problem(n: int, row: dict, field: str, message: str) -> None:
        problems.append(rejection(str(path), n, field, message, row, stage="generate", step=f"{stem}.review",
                                  rule="unusable_decision"))

    for n, row in read_decisions(path):
        decision = str(row["decision"]).strip().lower()
        record = by_id.get(str(row.get("id", "")))
        field = str(row.get("field") or "")
        if decision not in DECISIONS:
            problem(n, row, "decision", f"{decision!r} is not one of accept, reject, edit")
        elif record is None:
            problem(n, row, "id", f"no translated record {row.get('id')!r} in this run")
        elif field not in record["translation"]["source"]:
            problem(n, row, "field", f"{field!r} is not a translated field of {record['id']}")
        elif decision == "reject":
            dropped[record["id"]] = (n, f"reviewer rejected the translation of {field}")
        elif decision == "edit":
            text = str(row.get("edit") or "").strip()
            index = str(row.get("index") if row.get("index") is not None else "").strip()
            if not text:
                problem(n, row, "edit", "decision is edit but the edit is empty")
            elif isinstance(record[field], list):
                if not index.isdigit() or int(index) >= len(record[field]):
                    problem(n, row, "index", f"{index!r} is not an item of {field}")
                else:
                    record[field][int(index)] = text
                    record["translation"]["review"] = "edited"
            else:
                record[field] = text
                record["translation"]["review"] = "edited"
        else:
            record["translation"].setdefault("review", "accepted")
    kept = [r for r in records if r["id"] not in dropped]
    rejected = [rejection(str(path), n, "", why, by_id[i], stage="generate", step=f"{stem}.review",
                          rule="reviewer_rejected") for i, (n, why) in dropped.items()]
    return kept, rejected + problems
