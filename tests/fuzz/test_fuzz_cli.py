"""Malformed files through the commands a user types: ``medadapt data inspect``, ``data convert`` and
``eval mcqa``. Through ``main()`` itself (many in process, a few as a real subprocess): the command works
(exit 0), or stops with exit 2 and one ``error:`` line per problem, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_files import FORMATS, MCQA_FORMATS, data_file, value
from fuzz_helpers import CASES, FUZZ, assert_clean_exit, run_main
from hypothesis import example, given, settings
from hypothesis import strategies as st

# --to target and the output it writes: a record kind as JSONL or Parquet, an export, a datasets folder
TARGETS = [*((kind, out) for kind in ("qa", "mcqa", "chat", "text", "article", "ner")
             for out in ("out.jsonl", "out.parquet")),
           ("alpaca", "out.json"), ("sharegpt", "out.json"), ("openai", "out.jsonl"), ("lm-eval", "task.yaml"),
           ("hf", "dataset")]
NO_MODEL = "./no-such-model"  # eval mcqa stops at the model (at once: a path) once the benchmark has loaded


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-cli")


def command(source: Path, which: str, read_as: str, target: tuple[str, str]) -> list[str]:
    """The command line for ``which`` on the input file ``source`` (``target``: --to and the output)."""
    if which == "inspect":
        return ["data", "inspect", str(source), "--from", read_as, "--examples", "1"]
    if which == "convert":
        return ["data", "convert", str(source), str(source.with_name(target[1])), "--from", read_as, "--to", target[0]]
    return ["eval", "mcqa", "--model", NO_MODEL, "--benchmark", str(source), "--format", read_as]


def place(folder: Path, suffix: str, data: bytes) -> Path:
    """A fresh folder holding only the input file (no output of the case before)."""
    for old in folder.iterdir():
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    return path


def files_for_commands() -> st.SearchStrategy:
    """(command, file): eval mcqa gets files made for multiple-choice formats."""
    return st.sampled_from(["inspect", "convert", "eval"]).flatmap(
        lambda which: st.tuples(st.just(which), data_file(formats=MCQA_FORMATS if which == "eval" else FORMATS)))


# eval mcqa's options that read the benchmark further before the model loads: few-shot examples drawn from
# it, a style, the same file as training data for the contamination check
EVAL_OPTIONS = st.lists(st.sampled_from([("--num-fewshot", "2"), ("--style", "cloze"), ("--style", "generate"),
                                         ("--limit", "1"), ("--training-data", "SOURCE")]), max_size=2, unique=True)


@settings(FUZZ, max_examples=200)
@example(case=("eval", ("mcqa", ".jsonl", b'[1]\n{"messages": 5}\n\xff\n{"a": ' + b"[" * 5_000 + b"\n")),
         target=TARGETS[0], options=[("--training-data", "SOURCE")])  # training data read as the package's own
@example(case=("convert", ("qa", ".csv", b"")), target=("hf", "dataset"), options=[])  # datasets' bar before the error
@given(case=files_for_commands(), target=st.sampled_from(TARGETS), options=EVAL_OPTIONS)
def test_data_and_eval_commands_never_show_a_traceback(folder, monkeypatch, case, target, options):
    which, (read_as, suffix, data) = case
    source = place(folder, suffix, data)
    args = command(source, which, read_as, target)
    if which == "eval":
        args += [str(source) if word == "SOURCE" else word for option in options for word in option]
    CASES[f"cli {which}"] += 1
    code, out, err = run_main(args, monkeypatch)
    assert_clean_exit(code, out, err, args, data)


@settings(FUZZ, max_examples=40)
@given(flag=st.sampled_from(["--from", "--to", "--format"]),
       junk=st.text(max_size=30) | st.sampled_from([*FORMATS, "input.csv", "junk.yaml", ".", "/dev/null"]))
def test_unknown_formats_and_targets_are_one_line(folder, monkeypatch, flag, junk):
    """A format that is no kind and no mapping, or a file that is no mapping (the input, binary junk)."""
    source = place(folder, ".csv", b"question,answer\nWhy?,Because.\n")
    (folder / "junk.yaml").write_bytes(b"\xff\xfe\x00junk")
    args = command(source, "eval" if flag == "--format" else "convert", "qa", TARGETS[0])
    args[args.index(flag) + 1] = str(folder / junk) if junk in ("input.csv", "junk.yaml") else junk
    CASES["cli bad option"] += 1
    code, out, err = run_main(args, monkeypatch)
    if code != 0 and not err.startswith("error: "):  # click's own usage message (an empty option value)
        assert "Usage:" in err and "Traceback" not in err, shown(err)
        return
    assert_clean_exit(code, out, err, args, junk.encode())


@settings(FUZZ, max_examples=3)
@given(case=data_file(), which=st.sampled_from(["inspect", "convert"]))
def test_the_installed_script_prints_one_line(folder, case, which):
    """The real entry point in a fresh process: what a user's terminal shows."""
    read_as, suffix, data = case
    args = command(place(folder, suffix, data), which, read_as, ("chat", "out.jsonl"))
    CASES["cli subprocess"] += 1
    done = subprocess.run([sys.executable, "-c", "from medadapt.cli.main import main; main()", *args],
                          capture_output=True, text=True, timeout=120)
    assert_clean_exit(done.returncode, done.stdout, done.stderr, args, data)


QA = st.fixed_dictionaries({"id": st.uuids().map(str), "source": st.just("web"), "lang": st.just("en"),
                            "question": st.just("Why?"), "answer": st.just("Because."), "note": value})


@settings(FUZZ, max_examples=40)
@given(records=st.lists(QA, min_size=1, max_size=4), out=st.sampled_from(["out.parquet", "dataset"]))
def test_extra_fields_of_several_types_convert_or_fail_in_one_line(folder, monkeypatch, records, out):
    """Good records whose extra field is a number in one and text or a list in another: Parquet and datasets
    folders want one type a column."""
    data = "".join(json.dumps(r) + "\n" for r in records).encode("utf-8", "surrogatepass")
    source = place(folder, ".jsonl", data)
    target = "hf" if out == "dataset" else "qa"
    args = ["data", "convert", str(source), str(folder / out), "--from", "qa", "--to", target]
    CASES["cli convert (mixed types)"] += 1
    code, out_text, err = run_main(args, monkeypatch)
    assert_clean_exit(code, out_text, err, args, data)
