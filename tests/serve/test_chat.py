"""``medadapt chat``: history within the context window, the safety layer, Ctrl-C, /save, right-to-left output."""

from __future__ import annotations

import json
import threading
import time

import pytest
from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.llm.streaming import Generator
from medadapt.recipe.schema import ChatSection
from medadapt.serve.chat import ChatSession
from medadapt.serve.cli import Printer, visual_line
from medadapt.serve.safety import SafetyLayer


@pytest.fixture
def session(tiny_generator):
    return ChatSession(Generator(tiny_generator.model, tiny_generator.tokenizer),
                       ChatSection(max_new_tokens=6, temperature=0), SafetyLayer(disclaimer="off"))


def test_truncation_keeps_the_newest_turns(session):
    session.context_window = 140
    trimmed: list[int] = []
    for turn in range(8):
        session.reply(f"Question number {turn} about fever and headache?", lambda _: None, on_trim=trimmed.append)
    assert sum(trimmed) >= 2
    users = [m["content"] for m in session.history if m["role"] == "user"]
    assert users[-1] == "Question number 7 about fever and headache?"
    assert users == [f"Question number {t} about fever and headache?" for t in range(8 - len(users), 8)]
    assert [m["role"] for m in session.history[:2]] == ["user", "assistant"]


def test_red_flag_in_chat_comes_first(session):
    pieces: list[str] = []
    answer = session.reply("I think I'm having a heart attack", pieces.append)
    assert answer.startswith(session.safety.packs["en"].emergency_header)
    assert pieces[0].startswith(session.safety.packs["en"].emergency_header)
    assert session.last_reply.interventions[0]["categories"] == ["cardiac_chest_pain"]


def test_ctrl_c_stops_the_answer_and_keeps_the_session(tiny_generator):
    session = ChatSession(Generator(tiny_generator.model, tiny_generator.tokenizer),
                          ChatSection(max_new_tokens=300, temperature=0), None)
    seen: list[str] = []

    def on_token(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 3:
            raise KeyboardInterrupt

    started = time.monotonic()
    answer = session.reply("Tell me a long story", on_token)
    assert answer == "".join(seen).strip() and len(seen) == 3
    assert session.history[-1] == {"role": "assistant", "content": answer}
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "medadapt-generate"]
    assert time.monotonic() - started < 30
    session.reply("Shorter, please", lambda _: None)  # the session still works
    assert len(session.history) == 4


def test_right_to_left_lines_are_reordered_for_the_terminal(capsys):
    assert visual_line("Hello world") == "Hello world"
    line = visual_line("سلام دنیا")
    assert line != "سلام دنیا" and "\u200f" not in line
    # in visual mode a line is printed once complete
    printer = Printer(visual=True)
    printer.piece("سلام ")
    assert capsys.readouterr().out == ""
    printer.piece("دنیا\nbye")
    printer.flush()
    out = capsys.readouterr().out
    assert out.splitlines()[0] == visual_line("سلام دنیا") and out.endswith("bye")


def test_chat_command_save_system_and_safety_notes(tiny_model_dir, tmp_path):
    saved = tmp_path / "conversation.json"
    lines = ["/system You are terse.", "my baby is 3 weeks old and has a fever of 38.2", f"/save {saved}", "/exit"]
    result = CliRunner().invoke(app, ["chat", str(tiny_model_dir), "--max-new-tokens", "4", "--temperature", "0",
                                      "--rtl", "logical"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "safety: red flag infant_fever" in result.output and "conversation saved" in result.output
    conversation = json.loads(saved.read_text(encoding="utf-8"))
    roles = [m["role"] for m in conversation["messages"]]
    assert roles == ["system", "user", "assistant"] and conversation["messages"][0]["content"] == "You are terse."
    assert conversation["messages"][2]["content"].startswith("⚠️")


def test_chat_command_rejects_a_bad_rtl_mode(tiny_model_dir):
    result = CliRunner().invoke(app, ["chat", str(tiny_model_dir), "--rtl", "sideways"], input="/exit\n")
    assert result.exit_code != 0
