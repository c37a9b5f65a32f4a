"""Streaming speed: time to first token (TTFT) and tokens/s of streamed replies versus a plain
``model.generate`` call, same model, same prompts, greedy decoding, in one process.

Six ways to answer each prompt:
  1. plain ``model.generate`` (the baseline: nothing is seen until the whole reply is done, so its "first
     token" arrives with the last);
  2. medadapt's streamer in-process (``Generator.stream``: generation in a thread, pieces as decoded);
  3. ``medadapt serve`` over HTTP on loopback, server-sent events, safety layer off;
  4. the same with the safety layer on (the language guard holds back the first few letters);
  5. the same model as a q8_0 GGUF through llama.cpp, streamed in-process (``LlamaCppGenerator.stream``);
  6. that GGUF behind ``medadapt serve`` with the safety layer.

    python benchmarks/serve.py                 # the embedded SmolLM2-135M on CPU, 8 prompts × 64 tokens
    python benchmarks/serve.py --model runs/demo --gguf exported/model-q8_0.gguf --prompts 4 --tokens 32
    python benchmarks/serve.py --quick         # 2 prompts × 16 tokens, about a minute

Without ``--gguf`` the model is converted to q8_0 first, as ``medadapt export --gguf q8_0`` does (into a
temporary folder). The ratio of llama.cpp's tokens/s to transformers' (both streamed in-process) is printed
alone on the last line; the line before gives the time to first token of the server with the safety layer.
"""

from __future__ import annotations

import argparse
import json
import socket
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

PROMPTS = [
    "What is a normal body temperature for an adult?",
    "How much water should I drink in a day?",
    "What are common causes of a headache?",
    "Is it safe to take ibuprofen on an empty stomach?",
    "How can I lower my blood pressure without medicine?",
    "What foods are rich in iron?",
    "How many hours of sleep does a teenager need?",
    "What is the difference between a cold and the flu?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plain_generate(generator, messages, tokens: int) -> tuple[float, float, int]:
    import torch

    from medadapt.llm.streaming import GenParams

    started = time.perf_counter()
    ids = torch.tensor([generator.prompt_ids(messages)], device=generator.model.device)
    with torch.inference_mode():
        out = generator.model.generate(**generator.generate_kwargs(ids, GenParams(max_new_tokens=tokens, temperature=0)))
    total = time.perf_counter() - started
    return total, total, int(out.shape[1] - ids.shape[1])  # the first token is seen with the last


def streamed(generator, messages, tokens: int) -> tuple[float, float, int]:
    from medadapt.llm.streaming import GenParams

    started = time.perf_counter()
    first = None
    generation = generator.stream(messages, GenParams(max_new_tokens=tokens, temperature=0))
    for piece in generation:
        if first is None and piece:
            first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, generation.completion_tokens


def q8_0_gguf(model_dir: Path, folder: Path) -> Path:
    """``model_dir`` converted to q8_0 as export does it (the folder's files linked into ``folder`` first)."""
    from medadapt.serve.gguf import write_ggufs

    for item in model_dir.iterdir():
        if item.is_file():
            (folder / item.name).symlink_to(item.resolve())
    return write_ggufs(folder, ["q8_0"], log=lambda m: print(m, file=sys.stderr))[0]


def over_http(base: str, model_id: str, messages, tokens: int) -> tuple[float, float, int]:
    import httpx

    body = {"model": model_id, "messages": messages, "max_tokens": tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    started = time.perf_counter()
    first, used = None, 0
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=600) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                used = chunk["usage"]["completion_tokens"]
            if first is None and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, used


def in_thread(way, messages):
    """Run one measured call in a fresh thread, as the server runs generations: on a loaded CPU, torch's
    thread pool behaves very differently in the main thread, which would flatter the streamed ways."""
    box = []
    worker = threading.Thread(target=lambda: box.append(way(messages)))
    worker.start()
    worker.join()
    return box[0]


def start_server(app) -> tuple[str, object, threading.Thread]:
    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return base, server, thread
        except httpx.HTTPError:
            time.sleep(0.05)
    sys.exit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m", help="a model alias/directory or a run directory")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=64, help="max new tokens per reply")
    parser.add_argument("--quick", action="store_true", help="2 prompts × 16 tokens")
    parser.add_argument("--gguf", type=Path, help="the model as a q8_0 GGUF (default: converted here)")
    args = parser.parse_args()
    n, tokens = (2, 16) if args.quick else (args.prompts, args.tokens)

    import torch

    from medadapt.llm.llamacpp import LlamaCppGenerator, cpu_threads
    from medadapt.llm.streaming import Generator
    from medadapt.models.chat import load_chat_model
    from medadapt.models.registry import resolve_model
    from medadapt.serve.chat import chat_target
    from medadapt.serve.safety import SafetyLayer
    from medadapt.serve.planner import ServeConfig
    from medadapt.serve.server import create_app

    console = Console(stderr=True)
    spec = chat_target(args.model)
    model, tokenizer = load_chat_model(spec.model, spec.adapter)
    generator = Generator(model, tokenizer, "bench")
    scratch = Path(tempfile.mkdtemp(prefix="medadapt-bench-"))
    if args.gguf is None and spec.adapter is not None:
        sys.exit(f"{args.model} has an unmerged adapter: `medadapt export {args.model} --to DIR --gguf q8_0`, "
                 "then pass --gguf DIR/model-q8_0.gguf")
    gguf = args.gguf or q8_0_gguf(Path(resolve_model(spec.model)), scratch)
    fast = LlamaCppGenerator(gguf, "bench")
    conversations = [[{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}] for i in range(n)]
    config = ServeConfig(model_id="bench", max_tokens_limit=max(tokens, 1024), temperature=0.0, max_queue=0)
    plain_base, plain_server, plain_thread = start_server(create_app(generator, config, None))
    safe_base, safe_server, safe_thread = start_server(create_app(generator, config, SafetyLayer(disclaimer="off")))
    fast_base, fast_server, fast_thread = start_server(create_app(fast, config, SafetyLayer(disclaimer="off")))

    ways = {
        "model.generate (plain)": lambda m: plain_generate(generator, m, tokens),
        "streamed, in-process": lambda m: streamed(generator, m, tokens),
        "medadapt serve (SSE)": lambda m: over_http(plain_base, "bench", m, tokens),
        "medadapt serve + safety": lambda m: over_http(safe_base, "bench", m, tokens),
        "llama.cpp q8_0, streamed": lambda m: streamed(fast, m, tokens),
        "llama.cpp q8_0, serve + safety": lambda m: over_http(fast_base, "bench", m, tokens),
    }
    in_thread(lambda m: plain_generate(generator, m, 4), conversations[0])  # warm-up (first-call allocations)
    in_thread(lambda m: streamed(fast, m, 4), conversations[0])
    results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in ways}
    for messages in conversations:  # interleaved, so that drift in machine load hits every way alike
        for name, way in ways.items():
            results[name].append(in_thread(way, messages))
    plain_server.should_exit = safe_server.should_exit = fast_server.should_exit = True
    for thread in (plain_thread, safe_thread, fast_thread):
        thread.join(5)
    shutil.rmtree(scratch, ignore_errors=True)

    device = "cuda" if torch.cuda.is_available() else \
        f"CPU, {torch.get_num_threads()} torch threads, {cpu_threads()} llama.cpp threads"
    table = Table(title=f"{args.model} · {n} prompts × ≤ {tokens} new tokens · greedy · {device}")
    for column in ("way", "median TTFT ms", "tokens/s", "tokens", "median reply s"):
        table.add_column(column, justify="right" if column != "way" else "left")
    for name, rows in results.items():
        total_tokens = sum(r[2] for r in rows)
        table.add_row(name, f"{1000 * statistics.median(r[0] for r in rows):.0f}",
                      f"{total_tokens / sum(r[1] for r in rows):.1f}", str(total_tokens),
                      f"{statistics.median(r[1] for r in rows):.2f}")
    Console().print(table)
    plain_ttft = statistics.median(r[0] for r in results["model.generate (plain)"])
    served = statistics.median(r[0] for r in results["medadapt serve + safety"])
    print(f"time to first token: {plain_ttft / served:.1f}× sooner streamed through medadapt serve + safety "
          f"than a plain generate call; TTFT of medadapt serve + safety:")
    print(f"{1000 * served:.0f} ms")
    rate = {name: sum(r[2] for r in rows) / sum(r[1] for r in rows) for name, rows in results.items()}
    print("tokens/s, llama.cpp q8_0 over transformers (both streamed in-process):")
    print(f"{rate['llama.cpp q8_0, streamed'] / rate['streamed, in-process']:.1f}×")


if __name__ == "__main__":
    main()
