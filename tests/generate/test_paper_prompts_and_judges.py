"""The MMed-IFT prompt set and its judges against the fake server: `generate.prompt_set: mmed-ift` sends the
paper's prompts (the default set is sent unchanged otherwise), the judge sees a record's passage, and with
`judges` a record is kept only when every judge keeps it, both verdicts kept; the judges share one budget."""

from __future__ import annotations

import json

import yaml
from generate_helpers import API_KEY, qa_rows, read_jsonl, run_generate, write_recipe, write_records

from medadapt.llm.fake_server import default_responder, user_text
from medadapt.llm.prompts import load_prompts

OUT = ("runs", "gen", "generate")


def _with(recipe, **section):
    spec = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    spec["generate"].update(section)
    recipe.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return recipe


def _systems(fake):
    return [entry["body"]["messages"][0]["content"] for entry in fake.log]


def test_paper_expansion_is_chosen_by_the_recipe_and_default_stays_as_it_was(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    rows = qa_rows(2) + [{**r, "id": f"zh{i}", "lang": "zh", "question": "发烧怎么办？", "answer": "多喝水。"}
                         for i, r in enumerate(qa_rows(1))]
    data = write_records(tmp_path / "qa.jsonl", rows)
    recipe = write_recipe(tmp_path, fake.url, [{"task": "expand", "input": str(data)}])
    assert run_generate(recipe, tmp_path / "runs") == 0
    default_en, default_zh = load_prompts("en")["expand"], load_prompts("zh")["expand"]
    expected = default_en.messages(question=rows[0]["question"], answer=rows[0]["answer"])
    assert [{"role": r, "content": c} for r, c in expected] in [e["body"]["messages"] for e in fake.log]
    first = {r["id"]: r["generation"]["prompts"]["expand"] for r in read_jsonl(tmp_path.joinpath(*OUT, "expand.jsonl"))}
    assert first == {"q0-expanded": default_en.hash, "q1-expanded": default_en.hash, "zh0-expanded": default_zh.hash}
    assert sum("Rewrite the answer as a complete explanation" in p for p in fake.prompts()) == 2

    fake.log.clear()
    assert run_generate(_with(recipe, prompt_set="mmed-ift"), tmp_path / "runs2") == 0
    paper_en = load_prompts("en", prompt_set="mmed-ift")["expand"]
    assert paper_en.hash != default_en.hash
    assert sum(s.startswith("You are an English-speaking doctor") for s in _systems(fake)) == 2
    assert sum("keep every keyword and term of the short answer" in p for p in fake.prompts()) == 2
    paper = {r["id"]: r["generation"]["prompts"]["expand"]
             for r in read_jsonl(tmp_path.joinpath("runs2", "gen", "generate", "expand.jsonl"))}
    # zh: the default Chinese expansion already keeps the keywords and adds nothing; the set reuses it
    assert paper == {"q0-expanded": paper_en.hash, "q1-expanded": paper_en.hash, "zh0-expanded": default_zh.hash}


def test_paper_qa_generation_asks_for_two_topics_of_the_condensed_passage(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    articles = [{"id": "a0", "source": "t", "lang": "en", "title": "Fever", "text": "Fever is a raised body "
                 "temperature. Paracetamol lowers it. Children with fever need fluids."}]
    data = write_records(tmp_path / "articles.jsonl", articles)
    recipe = _with(write_recipe(tmp_path, fake.url, [{"task": "qa_generate", "input": str(data)}]),
                   prompt_set="mmed-ift")
    assert run_generate(recipe, tmp_path / "runs") == 0
    condense, generate = fake.prompts()
    assert condense.startswith("Condense this medical passage")  # the default condense step, as the set says
    assert "must be about different topics of the passage" in generate and "###MCQ" in generate
    saq = read_jsonl(tmp_path.joinpath(*OUT, "qa_generate.qa.jsonl"))[0]
    assert saq["passage"] and saq["rationale"]


def judges_responder(body):
    """judge-a keeps everything; judge-b finds the pair whose passage says WRONG factually inaccurate."""
    text = user_text(body)
    if '"logical_consistency"' not in text:
        return default_responder(body)
    low = body["model"] == "judge-b" and "WRONG" in text
    return json.dumps({"logical_consistency": 0.9, "factual_accuracy": 0.2 if low else 0.8, "sound_reasoning": 0.7})


def _judge_records():
    rows = qa_rows(3)
    rows[0] |= {"passage": "Fever: rest and water help.", "rationale": "The passage says so."}
    rows[1] |= {"passage": "WRONG passage about fever."}
    return rows  # rows[2]: no passage


def test_two_judges_must_both_keep_and_see_the_passage(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    fake.responder = judges_responder
    data = write_records(tmp_path / "qa.jsonl", _judge_records())
    mcqa = write_records(tmp_path / "mcqa.jsonl", [{"id": "m0", "source": "t", "lang": "en", "question": "Fever?",
                                                    "choices": ["rest", "run"], "answer": 0, "explanation": "Rest."}])
    judge = {"kind": "openai", "base_url": fake.url, "api_key_env": "MEDADAPT_TEST_KEY", "retry_backoff_s": 0.01}
    judges = [{**judge, "model": "judge-a"}, {**judge, "model": "judge-b"}]
    tasks = [{"task": "judge", "input": str(data), "judges": judges},
             {"task": "judge", "name": "judge-mcqa", "format": "mcqa", "input": str(mcqa), "judges": judges}]
    recipe = _with(write_recipe(tmp_path, fake.url, tasks), prompt_set="mmed-ift")
    assert run_generate(recipe, tmp_path / "runs") == 0

    by_model = {}
    for entry in fake.log:
        by_model.setdefault(entry["body"]["model"], []).append(user_text(entry["body"]))
    assert sorted(by_model) == ["judge-a", "judge-b"] and all(len(p) == 4 for p in by_model.values())
    sent = by_model["judge-a"]
    assert any("Passage: Fever: rest and water help." in p and "Rationale: The passage says so." in p for p in sent)
    assert sum("Passage:" in p for p in sent) == 2  # the record without a passage is judged without one
    assert any("Fever?\nA. rest\nB. run" in p and "Answer: A. rest" in p and "Rationale: Rest." in p for p in sent)

    kept = {r["id"]: r for r in read_jsonl(tmp_path.joinpath(*OUT, "judge.jsonl"))}
    assert set(kept) == {"q0", "q2"}
    assert [(v["model"], v["keep"]) for v in kept["q0"]["judges"]] == [("judge-a", True), ("judge-b", True)]
    assert kept["q0"]["judge"] == {"logical_consistency": 0.9, "factual_accuracy": 0.8, "sound_reasoning": 0.7}
    rejected = [r for r in read_jsonl(tmp_path.joinpath(*OUT, "rejected.jsonl")) if r["step"] == "judge.judge"]
    assert len(rejected) == 1 and "judge-b: factual_accuracy 0.2 < 0.6" in rejected[0]["reason"]
    assert "judge-a" not in rejected[0]["reason"]
    assert [v["keep"] for v in rejected[0]["judges"]] == [True, False]  # both verdicts kept for inspection
    stats = json.loads(tmp_path.joinpath(*OUT, "stats.json").read_text())
    assert stats["tasks"]["judge"]["judges"] == {"judge-a": {"kept": 3, "refused": 0},
                                                 "judge-b": {"kept": 2, "refused": 1}}
    assert stats["requests"]["requests_sent"] == 8  # both judges' requests counted in the one usage


def test_judges_spend_one_budget_and_a_rerun_finishes_from_the_cache(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    fake.responder = judges_responder
    data = write_records(tmp_path / "qa.jsonl", _judge_records())
    judge = {"kind": "openai", "base_url": fake.url, "api_key_env": "MEDADAPT_TEST_KEY"}
    tasks = [{"task": "judge", "input": str(data), "judges": [{**judge, "model": "judge-a"},
                                                              {**judge, "model": "judge-b"}]}]
    recipe = _with(write_recipe(tmp_path, fake.url, tasks, concurrency=1), prompt_set="mmed-ift")
    assert run_generate(recipe, tmp_path / "runs", "--max-requests", "3") == 3
    assert len(fake.log) == 3  # not 3 per judge
    assert run_generate(recipe, tmp_path / "runs") == 0
    assert len(fake.log) == 6  # the three answered before were not asked again
    assert {r["id"] for r in read_jsonl(tmp_path.joinpath(*OUT, "judge.jsonl"))} == {"q0", "q2"}


def test_the_same_judge_twice_is_refused(tmp_path, fake):
    judge = {"kind": "openai", "base_url": fake.url, "model": "judge-a"}
    recipe = write_recipe(tmp_path, fake.url, [{"task": "judge", "input": "qa.jsonl", "judges": [judge, judge]}])
    assert run_generate(recipe, tmp_path / "runs") == 2
