"""A task's ``languages`` filter: records in other languages are never sent nor written, and are counted."""

from __future__ import annotations

import json

from generate_helpers import API_KEY, qa_rows, read_jsonl, run_generate, write_recipe, write_records


def test_only_listed_languages_are_sent_and_the_others_are_counted(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    rows = [{**r, "id": f"{lang}{i}", "lang": lang, "question": f"{lang} question number {i}?"}
            for lang, n in (("en", 3), ("fa", 4), ("ar", 2)) for i, r in enumerate(qa_rows(n))]
    data = write_records(tmp_path / "qa.jsonl", rows)
    recipe = write_recipe(tmp_path, fake.url, [{"task": "expand", "input": str(data), "languages": ["fa", "ar"]}])
    runs = tmp_path / "runs"
    assert run_generate(recipe, runs) == 0

    sent = {r["id"] for r in rows if any(r["question"] in prompt for prompt in fake.prompts())}
    assert len(fake.log) == 6 and sent == {"fa0", "fa1", "fa2", "fa3", "ar0", "ar1"}  # no English record was sent
    out = runs / "gen" / "generate"
    assert [r["id"] for r in read_jsonl(out / "expand.jsonl")] == [f"fa{i}-expanded" for i in range(4)] + [
        f"ar{i}-expanded" for i in range(2)]
    assert read_jsonl(out / "rejected.jsonl") == []  # left out, not rejected
    stats = json.loads((out / "stats.json").read_text())["tasks"]["expand"]
    assert stats["items"] == 6 and stats["skipped_languages"] == {"en": 3}
    assert stats["written"] == {"expand": 6}
