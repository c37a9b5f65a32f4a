"""``medadapt eval answer | judge | kqa``: free-form answers with latency, a pairwise LLM judge, and K-QA's
comprehensiveness and hallucination checks, outside a recipe. Registered by ``evaluate/cli.py``.

The judge's API key is read from the environment variable ``--api-key-env`` names, and written nowhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from medadapt.errors import DataError

freeform_app = typer.Typer()
console = Console()

ANSWER_FIELDS = ("id", "lang", "model", "question", "answer")

JudgeModel = Annotated[str, typer.Option(help="The judge: the served model's name with --judge-url, else a local "
                                              "model (alias, directory or hub id) run on this machine.")]
JudgeUrl = Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server for the judge, e.g. "
                                                      "http://127.0.0.1:8000/v1 (omit to run --judge-model locally).")]
ApiKeyEnv = Annotated[Optional[str], typer.Option(help="Name of the environment variable that holds the server's "
                                                       "API key (the key itself is never passed or stored).")]
Concurrency = Annotated[int, typer.Option(min=1, help="Judge requests in flight at once (server) or per batch "
                                                      "(local).")]
Timeout = Annotated[float, typer.Option(min=0.1, help="Seconds before a judge request is retried.")]
PromptsDir = Annotated[Optional[Path], typer.Option(help="A folder of <lang>.yaml judge prompts replacing the "
                                                         "shipped ones (copy evaluate/freeform/judge_prompts/en.yaml).")]
PromptLang = Annotated[Optional[str], typer.Option(help="Language of the judge's instructions (en, fa, ar); "
                                                        "default: each question's own language.")]
JudgeTokens = Annotated[int, typer.Option(min=1, help="Room for the judge's JSON verdict and reason, in tokens.")]
Out = Annotated[Path, typer.Option(help="Folder for the outputs and the judge's request cache (a re-run asks only "
                                        "what is missing).")]


def _judge_backend(judge_model: str, judge_url: str | None, api_key_env: str | None, concurrency: int,
                   timeout: float):
    from medadapt.llm.config import BackendConfig

    try:
        return BackendConfig(kind="openai" if judge_url else "local", model=judge_model, base_url=judge_url,
                             api_key_env=api_key_env, concurrency=concurrency, batch_size=concurrency,
                             timeout_s=timeout)
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"]) from None


def _answers(path: Path, label: str | None, option: str, one_model: bool = True) -> list[dict[str, Any]]:
    """The rows of an answers file (``eval answer`` or the evaluate stage wrote it): ``label``'s, else all of
    them, which must be one model's when ``one_model``."""
    from medadapt.evaluate.freeform.answers import read_answers

    if not path.is_file():
        raise DataError("file not found", file=str(path))
    rows, broken = read_answers(path)
    if broken:
        raise DataError(f"{broken} lines are not JSON", file=str(path))
    for number, row in enumerate(rows, start=1):
        missing = [name for name in ANSWER_FIELDS if name not in row]
        if missing:
            raise DataError(f"missing {', '.join(missing)}", file=str(path), row=number)
    labels = sorted({row["model"] for row in rows})
    if not rows:
        raise DataError("no answers", file=str(path))
    if label is None and one_model and len(labels) > 1:
        raise typer.BadParameter(f"{path} holds answers of several models ({', '.join(labels)}); choose one with {option}")
    if label is not None and label not in labels:
        raise typer.BadParameter(f"{path} has no answers of {label!r} (models: {', '.join(labels)})")
    return [row for row in rows if label is None or row["model"] == label]


def _number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _with_ci(value: float | None, ci95: list[float] | None) -> str:
    return _number(value) + ("" if ci95 is None else f" ({ci95[0]:.3f}–{ci95[1]:.3f})")


def latency_table(latency: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="free-form answers: latency")
    for column in ("model", "n", "mean TTFT s", "median TTFT s", "tokens/s", "mean tokens", "mean words", "mean wall s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for label, f in latency.items():
        table.add_row(label + ("" if f["streamed"] else " *"), str(f["n"]), _number(f["mean_ttft_s"]),
                      _number(f["median_ttft_s"]), _number(f["tokens_per_s"], 1), _number(f["mean_answer_tokens"], 1),
                      _number(f["mean_answer_words"], 1), _number(f["mean_wall_s"]))
    if not all(f["streamed"] for f in latency.values()):
        table.caption = "* not streamed: TTFT is the wall time of the whole answer"
    return table


def pairwise_table(result: dict[str, Any]) -> Table:
    table = Table(title=f"pairwise judge: {result['model_a']} (A) vs {result['model_b']} (B)")
    table.add_column("")
    table.add_column("value", justify="right")
    rates = result["rates"]
    for name, key, outcome in (("A better", "wins", "win"), ("tie", "ties", "tie"), ("B better", "losses", "loss")):
        table.add_row(name, f"{result[key]} ({_number(rates[outcome], 2)})")
    table.add_row("win rate of A (95 % CI)", _with_ci(result["win_rate"], result["win_rate_ci95"]))
    table.add_row("questions scored", f"{result['scored']} of {result['questions']}")
    table.add_row("verdicts choosing the answer shown first", _number(result["position_bias"]["first_shown_share"], 2))
    table.add_row("questions whose verdict flipped with the order", _number(result["position_bias"]["flip_rate"], 2))
    table.add_row("unparsable / failed verdicts", f"{result['verdicts']['unparsable']} / {result['verdicts']['failed']}")
    table.caption = "win rate: win 1, tie 0.5, loss 0; a verdict that flips with the order counts as a tie"
    return table


def kqa_table(models: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="K-QA: comprehensiveness and hallucination (95 % CI)")
    for column in ("model", "answers", "comprehensiveness", "hallucination rate", "unparsable / failed"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for label, f in models.items():
        table.add_row(label, str(f["answers_checked"]),
                      _with_ci(f["comprehensiveness"]["mean"], f["comprehensiveness"]["ci95"]),
                      _with_ci(f["hallucination_rate"]["mean"], f["hallucination_rate"]["ci95"]),
                      f"{f['statements']['unparsable']} / {f['statements']['failed']} of {f['statements']['checked']}")
    return table


@freeform_app.command("answer")
def eval_answer(
    model: Annotated[str, typer.Option(help="Alias, local model directory or hub id; with --url, the served "
                                            "model's name.")],
    questions: Annotated[Path, typer.Option(help="Held-out questions with reference answers (qa JSONL, or any "
                                                 "file --format reads).")],
    out: Annotated[Path, typer.Option(help="Folder for answers.jsonl (appended; a re-run answers only what is "
                                           "missing), latency.json and rejected.jsonl.")],
    format: Annotated[str, typer.Option("--format", help="How to read the questions: qa, or a data mapping such "
                                                         "as kqa (`medadapt data formats`).")] = "qa",
    label: Annotated[Optional[str], typer.Option(help="The model's name in the outputs (default: the model's "
                                                      "name); answer several models into one --out to compare.")] = None,
    adapter: Annotated[Optional[Path], typer.Option(help="A LoRA adapter folder to apply to a local model.")] = None,
    url: Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server that serves --model "
                                                    "(its answers are not streamed: TTFT = wall time).")] = None,
    api_key_env: ApiKeyEnv = None,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Longest answer, in tokens (greedy decoding).")] = 512,
    system_prompt: Annotated[Optional[str], typer.Option(help="A system prompt before each question.")] = None,
    repetition_penalty: Annotated[float, typer.Option(min=0.01, help="Local models: 1.0 is plain greedy; "
                                                                     "medadapt chat uses 1.1.")] = 1.0,
    chat_template: Annotated[Optional[str], typer.Option(help="Template name or YAML file, for a local model "
                                                              "without one.")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N questions.")] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="--url: seconds before a request is retried.")] = 300.0,
) -> None:
    """Answer held-out questions with one model and time it: TTFT, tokens/s, answer length, wall time."""
    from medadapt.records.jsonl import write_json, write_jsonl
    from medadapt.evaluate.freeform.answers import (Answerer, BackendAnswerer, LocalAnswerer, answer_questions,
                                            latency_summary, load_questions, read_answers)

    records, rejected = load_questions(questions, format, limit, Path.cwd())
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "rejected.jsonl", rejected)
    if rejected:
        console.print(f"[yellow]{len(rejected)} rows rejected; first: {rejected[0]['reason']}")
    name = label or Path(model).name or model
    if url:
        from medadapt.llm.config import BackendConfig
        from medadapt.llm.factory import make_backend

        config = BackendConfig(kind="openai", base_url=url, model=model, api_key_env=api_key_env, concurrency=1,
                               timeout_s=timeout)
        backend = make_backend(config, model, None, Path.cwd())
        answerer: Answerer = BackendAnswerer(name, backend, max_new_tokens, system_prompt)
    else:
        from medadapt.models.templates import load_chat_template

        with console.status(f"loading {model}…"):
            answerer = LocalAnswerer.load(name, model, adapter, max_new_tokens=max_new_tokens, system_prompt=system_prompt,
                                          repetition_penalty=repetition_penalty,
                                          chat_template=load_chat_template(chat_template) if chat_template else None)
    try:
        answer_questions(answerer, records, out / "answers.jsonl", console)
    finally:
        getattr(answerer, "close", lambda: None)()
    latency = latency_summary(read_answers(out / "answers.jsonl")[0])
    write_json(out / "latency.json", latency)
    console.print(latency_table(latency))
    console.print(f"Wrote {out / 'answers.jsonl'} and latency.json")


@freeform_app.command("judge")
def eval_judge(
    answers_a: Annotated[Path, typer.Argument(help="Model A's answers.jsonl (from `eval answer` or a run's "
                                                   "evaluate/freeform/).")],
    answers_b: Annotated[Path, typer.Argument(help="Model B's answers.jsonl (may be the same file as A's).")],
    judge_model: JudgeModel,
    out: Out,
    label_a: Annotated[Optional[str], typer.Option(help="Model A's label, when its file holds several models.")] = None,
    label_b: Annotated[Optional[str], typer.Option(help="Model B's label, when its file holds several models.")] = None,
    judge_url: JudgeUrl = None,
    api_key_env: ApiKeyEnv = None,
    concurrency: Concurrency = 8,
    timeout: Timeout = 120.0,
    prompts: PromptsDir = None,
    prompt_lang: PromptLang = None,
    max_new_tokens: JudgeTokens = 256,
) -> None:
    """Which model answered better: an LLM judge sees both answers (and the reference) in both orders.

    Writes judgements.jsonl (both verdicts per question, unparsable replies kept raw) and judge.json."""
    from medadapt.evaluate.freeform.judge import (JudgePrompts, judge_about, judge_pair, pairwise_failures,
                                                  raise_if_failed, run_judge, write_pairwise)

    rows_a, rows_b = _answers(answers_a, label_a, "--label-a"), _answers(answers_b, label_b, "--label-b")
    name_a, name_b = rows_a[0]["model"], rows_b[0]["model"]
    if answers_a.resolve() == answers_b.resolve() and name_a == name_b:
        raise typer.BadParameter("A and B are the same model's answers; choose --label-a and --label-b")
    backend = _judge_backend(judge_model, judge_url, api_key_env, concurrency, timeout)
    judge_prompts = JudgePrompts(prompts, prompt_lang)
    out.mkdir(parents=True, exist_ok=True)
    with console.status(f"judging with {judge_model}…"):
        rows, usage = run_judge(backend, judge_model, Path.cwd(), out / "judge-cache.sqlite",
                                lambda client: judge_pair(client, judge_prompts, rows_a, rows_b, max_new_tokens))
    if len(rows) < len(rows_a):
        console.print(f"[yellow]{len(rows_a) - len(rows)} of {name_a}'s questions have no answer of {name_b} to the "
                      f"same question: not judged")
    about = judge_about(backend, judge_model, judge_prompts, usage)
    result = write_pairwise(out, {(name_a, name_b): rows}, about)[f"{name_a} vs {name_b}"]
    console.print(pairwise_table(result))
    console.print(f"requests: {usage['requests_sent']} sent, {usage['requests_cached']} from the cache; wrote "
                  f"{out / 'judge.json'}")
    raise_if_failed(pairwise_failures(rows))


@freeform_app.command("kqa")
def eval_kqa(
    answers: Annotated[Path, typer.Argument(help="answers.jsonl whose questions carry K-QA's Must_have / "
                                                 "Nice_to_have statements (questions read with --format kqa).")],
    judge_model: JudgeModel,
    out: Out,
    label: Annotated[Optional[str], typer.Option(help="Only this model's answers (default: every model in the "
                                                      "file).")] = None,
    judge_url: JudgeUrl = None,
    api_key_env: ApiKeyEnv = None,
    concurrency: Concurrency = 8,
    timeout: Timeout = 120.0,
    prompts: PromptsDir = None,
    prompt_lang: PromptLang = None,
    max_new_tokens: JudgeTokens = 256,
) -> None:
    """K-QA's checks: the share of must-have statements each answer covers (comprehensiveness) and the share of
    answers contradicting any statement (hallucination rate), statement by statement with an LLM judge.

    Writes kqa.jsonl (every statement's verdict), kqa.json and rejected.jsonl."""
    from medadapt.evaluate.freeform.judge import JudgePrompts, judge_about, raise_if_failed, run_judge
    from medadapt.evaluate.freeform.kqa import check_answers, statement_failures, write_kqa
    from medadapt.records.jsonl import write_jsonl

    rows = _answers(answers, label, "--label", one_model=False)
    backend = _judge_backend(judge_model, judge_url, api_key_env, concurrency, timeout)
    judge_prompts = JudgePrompts(prompts, prompt_lang)
    out.mkdir(parents=True, exist_ok=True)
    with console.status(f"checking statements with {judge_model}…"):
        (checked, rejected), usage = run_judge(
            backend, judge_model, Path.cwd(), out / "judge-cache.sqlite",
            lambda client: check_answers(client, judge_prompts, rows, max_new_tokens, str(answers)))
    if not checked and not rejected:
        raise DataError("no answer carries Must_have / Nice_to_have statements (read the questions with "
                        "--format kqa)", file=str(answers))
    models = write_kqa(out, checked, rejected, judge_about(backend, judge_model, judge_prompts, usage))
    write_jsonl(out / "rejected.jsonl", rejected)
    console.print(kqa_table(models))
    if rejected:
        console.print(f"[yellow]{len(rejected)} answers rejected; first: {rejected[0]['reason']}")
    console.print(f"requests: {usage['requests_sent']} sent, {usage['requests_cached']} from the cache; wrote "
                  f"{out / 'kqa.json'}")
    raise_if_failed(statement_failures(checked))
