"""Token streaming: stop strings are cut even when split across pieces, and a reply knows its length and why
it ended."""

from __future__ import annotations

from medadapt.llm.streaming import Generator, GenParams, split_stop


def test_a_stop_string_split_across_pieces_is_held_back_then_cut():
    assert split_stop("Rest well.\n", ["\n\n"]) == ("Rest well.", "\n", False)
    assert split_stop("\n\nmore", ["\n\n"]) == ("", "", True)
    assert split_stop("no stop here", ["###"]) == ("no stop here", "", False)


def test_greedy_stream_counts_tokens_and_says_why_it_ended(tiny_inference):
    model, tokenizer = tiny_inference
    generator = Generator(model, tokenizer, "tiny")
    messages = [{"role": "user", "content": "Hello"}]
    params = GenParams(max_new_tokens=4, temperature=0.0, repetition_penalty=1.0)
    first = generator.stream(messages, params)
    text = "".join(first)
    assert first.prompt_tokens == len(generator.prompt_ids(messages))
    assert 0 < first.completion_tokens <= 4
    assert first.finish_reason == ("length" if first.completion_tokens == 4 else "stop")
    assert "".join(generator.stream(messages, params)) == text  # greedy: the same reply again
