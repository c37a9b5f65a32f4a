"""The pairwise judge against a fake OpenAI-compatible server on loopback whose responder knows which answer
is better: both orders are asked, orders combine by the documented rule, position bias is measured, and
unparsable verdicts are counted, never guessed."""

from __future__ import annotations

import json
import re

import pytest

from medadapt.evaluate.freeform.judge import JudgePrompts, Verdict, combine, judge_pair, pairwise_summary, run_judge
from medadapt.llm.config import BackendConfig
from medadapt.llm.errors import LLMError
from medadapt.llm.fake_server import FakeOpenAI, serve, user_text


def answers(label: str, texts: list[str], reference: bool = True) -> list[dict]:
    return [{"id": f"q{i}", "lang": "en", "model": label, "question": f"Question {i} about fever?",
             "reference": "Rest and fluids." if reference else "", "answer": text} for i, text in enumerate(texts)]


A = answers("a", ["GOOD a0", "GOOD a1", "GOOD a2", "BAD a3", "GOOD a4", "GOOD a5"])
B = answers("b", ["BAD b0", "BAD b1", "BAD b2", "GOOD b3", "GOOD b4", "BAD b5"])


def shown(text: str) -> tuple[str, str]:
    """The two answers of a pairwise prompt, in the order shown."""
    return (re.search(r"\[Answer 1\]\n(.*?)\n\[End of answer 1\]", text, re.S).group(1),
            re.search(r"\[Answer 2\]\n(.*?)\n\[End of answer 2\]", text, re.S).group(1))


def prefers_good(body: dict) -> str:
    """A fair judge: the answer marked GOOD wins wherever it is shown; question 5 gets prose, not JSON."""
    text = user_text(body)
    if "Question 5" in text:
        return "Answer 1 is clearly better."
    first, second = ("GOOD" in answer for answer in shown(text))
    return json.dumps({"better": "tie" if first == second else "1" if first else "2", "reason": "accuracy"})


def judge(url: str, cache, rows_a=A, rows_b=B, prompts: JudgePrompts | None = None):
    config = BackendConfig(kind="openai", base_url=url, model="judge-model", retry_backoff_s=0.01, timeout_s=5)
    return run_judge(config, "unused", cache.parent, cache,
                     lambda client: judge_pair(client, prompts or JudgePrompts(), rows_a, rows_b, 64))


def test_both_orders_combined_win_rate_and_cache(tmp_path):
    fake = FakeOpenAI(responder=prefers_good)
    with serve(fake) as url:
        rows, usage = judge(url, tmp_path / "cache.sqlite")
        sent = len(fake.log)
        again, usage_again = judge(url, tmp_path / "cache.sqlite")
    assert sent == 12 and len(fake.log) == 12  # every question in both orders; the re-run asked nothing
    assert usage["requests_sent"] == 12 and usage_again["requests_cached"] == 12 and again == rows
    orders = {}
    for prompt in fake.prompts():
        orders.setdefault(re.search(r"Question \d", prompt).group(0), []).append(shown(prompt))
    assert orders["Question 0"] in ([("GOOD a0", "BAD b0"), ("BAD b0", "GOOD a0")],
                                    [("BAD b0", "GOOD a0"), ("GOOD a0", "BAD b0")])
    assert all("[Reference answer]\nRest and fluids." in p for p in fake.prompts())

    assert [row["result"] for row in rows] == ["win", "win", "win", "loss", "tie", None]
    unparsed = rows[5]["a_first"]
    assert unparsed["raw"] == "Answer 1 is clearly better." and "no JSON object" in unparsed["unparsable"]
    summary = pairwise_summary(rows, "a", "b")
    assert (summary["wins"], summary["ties"], summary["losses"], summary["scored"]) == (3, 1, 1, 5)
    assert summary["rates"] == {"win": 0.6, "tie": 0.2, "loss": 0.2}
    assert summary["win_rate"] == 0.7  # (3 + 0.5) / 5
    low, high = summary["win_rate_ci95"]
    assert 0 <= low <= 0.7 <= high <= 1 and low < high
    assert summary["verdicts"] == {"sent": 12, "parsed": 10, "unparsable": 2, "failed": 0}
    # "1" was chosen for q0-q2 with A first, q3 with B first: 4 of 10 parsed verdicts
    assert summary["position_bias"] == {"first_shown_share": 0.4, "flip_rate": 0.0}


def test_a_judge_that_always_picks_the_first_answer_gives_only_ties(tmp_path):
    fake = FakeOpenAI(responder=lambda body: '{"better": "1", "reason": "first"}')
    with serve(fake) as url:
        rows, _ = judge(url, tmp_path / "cache.sqlite", A[:5], B[:5])
    summary = pairwise_summary(rows, "a", "b")
    assert summary["ties"] == summary["scored"] == 5 and summary["wins"] == summary["losses"] == 0
    assert summary["win_rate"] == 0.5
    assert summary["position_bias"] == {"first_shown_share": 1.0, "flip_rate": 1.0}


def test_combination_rule_and_strict_labels():
    win_first, win_second, tie, missing = Verdict("1"), Verdict("2"), Verdict("tie"), Verdict(None, unparsable="x")
    assert combine(win_first, win_second) == ("win", False)  # A shown first won, then A shown second won
    assert combine(win_second, win_first) == ("loss", False)
    assert combine(win_first, win_first) == ("tie", True)  # followed the position
    assert combine(win_first, tie) == ("tie", True)
    assert combine(tie, tie) == ("tie", False)
    assert combine(missing, win_second) == (None, None)


def test_unexpected_labels_and_failed_requests_are_counted(tmp_path):
    replies = {"GOOD a0": '{"better": "A"}', "BAD b0": '{"better": 2, "reason": "fine"}',
               "GOOD a1": '{"better": true}', "BAD b1": '{"better": "TIE"}', "BAD b2": '{"better": "1"}'}
    first_shown = lambda body: shown(user_text(body))[0]  # noqa: E731
    fake = FakeOpenAI(responder=lambda body: replies[first_shown(body)],
                      faults=lambda number, body: "500" if first_shown(body) == "GOOD a2" else None)
    with serve(fake) as url:
        config = BackendConfig(kind="openai", base_url=url, model="j", max_retries=0, timeout_s=5)
        rows, usage = run_judge(config, "j", tmp_path, tmp_path / "c.sqlite",
                                lambda client: judge_pair(client, JudgePrompts(), A[:3], B[:3], 64))
    assert "better: expected one of 1, 2, tie, got 'A'" in rows[0]["a_first"]["unparsable"]
    assert rows[0]["b_first"] == {"value": "2", "reason": "fine"}
    assert "got True" in rows[1]["a_first"]["unparsable"] and rows[1]["b_first"]["value"] == "tie"
    assert "HTTP 500" in rows[2]["a_first"]["failed"] and rows[2]["result"] is None
    assert usage["requests_failed"] == 1
    summary = pairwise_summary(rows, "a", "b")
    assert summary["verdicts"] == {"sent": 6, "parsed": 3, "unparsable": 2, "failed": 1} and summary["scored"] == 0
    assert summary["win_rate"] is None and summary["win_rate_ci95"] is None


def test_prompts_per_language_and_a_user_folder(tmp_path):
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "fa.yaml").write_text(
        "pairwise:\n  user: 'داوری {{ question }} | {{ answer_1 }} | {{ answer_2 }}{{ reference }}'\n"
        "kqa:\n  user: '{{ question }} {{ answer }} {{ statement }}'\n", encoding="utf-8")
    persian = [{**row, "lang": "fa"} for row in A[:1]], [{**row, "lang": "fa"} for row in B[:1]]
    fake = FakeOpenAI(responder=lambda body: '{"better": "tie"}')
    with serve(fake) as url:
        judge(url, tmp_path / "c.sqlite", *persian, prompts=JudgePrompts(folder))
        judge(url, tmp_path / "c2.sqlite", A[:1], B[:1], prompts=JudgePrompts(folder, lang="ar"))
    assert fake.prompts()[0].startswith("داوری Question 0 about fever? | ")
    assert "[الإجابة 1]" in fake.prompts()[2]  # the shipped Arabic prompt, for English questions


def test_a_language_without_prompts_is_one_line_error(tmp_path):
    with pytest.raises(LLMError, match="no judge prompts for language 'tr'"):
        JudgePrompts(tmp_path).get("pairwise", "tr")
    (tmp_path / "en.yaml").write_text("pairwise:\n  user: x\n", encoding="utf-8")
    with pytest.raises(LLMError, match="en.yaml: kqa: needs `user`"):
        JudgePrompts(tmp_path).get("pairwise", "en")


@pytest.mark.parametrize("lang", ["en", "fa", "ar", "zh", "ja", "ko", "fr", "es"])
def test_shipped_judge_prompts_in_every_language(tmp_path, lang):
    prompts = JudgePrompts(tmp_path)  # an override folder without this language: the shipped file
    values = {"question": "Q-TEXT", "reference": "REF-TEXT", "answer_1": "ONE", "answer_2": "TWO"}
    pairwise = "\n".join(text for _, text in prompts.get("pairwise", lang).messages(**values))
    assert all(v in pairwise for v in values.values()) and '"better": "1" | "2" | "tie"' in pairwise
    assert "REF-TEXT" not in "\n".join(t for _, t in prompts.get("pairwise", lang).messages(**{**values, "reference": ""}))
    kqa = "\n".join(text for _, text in prompts.get("kqa", lang).messages(question="Q", answer="ANS", statement="ST"))
    assert "ANS" in kqa and "ST" in kqa and '"verdict": "covered" | "contradicted" | "neither"' in kqa
