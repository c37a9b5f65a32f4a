"""The ``chat``, ``serve`` and ``export`` commands: plain commands the main app registers like its other tools."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from medadapt.errors import MedadaptError
from medadapt.records.jsonl import write_json

console = Console()
err_console = Console(stderr=True)

RTL_HELP = ("How right-to-left (Persian, Arabic) lines are shown: visual = reordered and letters joined, one line "
            "at a time, for terminals without bidi support; logical = as written (bidi-capable terminals, pipes); "
            "auto = visual on a terminal not known to do bidi itself.")


COUNTRY_HELP = ("ISO 3166-1 code whose emergency numbers the safety guidance names (IR, FR, US, ...); default: "
                "the recipe's chat.country.")


class ServeError(MedadaptError):
    """A serve/chat option that cannot work."""


def _safety(languages: list[str], enabled: bool, safety_dir: Optional[Path], disclaimer: str,
            log_file: Optional[Path], country: Optional[str] = None):
    from medadapt.serve.safety import SafetyLayer, load_packs

    if not enabled:
        return None
    return SafetyLayer(load_packs(safety_dir), languages=languages or (),
                       disclaimer=disclaimer, log_file=log_file, country=country)


def _load(target: str, chat_template: Optional[str], model_id: Optional[str] = None):
    """(chat target, loaded generator: llama.cpp for a .gguf file, else transformers), the generator named
    ``model_id`` or else after the run (or the target)."""
    from medadapt.llm.generators import load_generator
    from medadapt.models.templates import load_chat_template
    from medadapt.serve.chat import chat_target

    spec = chat_target(target, chat_template)
    template = load_chat_template(chat_template)
    name = model_id or (spec.run_dir.name if spec.run_dir else Path(target).name or target)
    with err_console.status(f"Loading {escape(spec.description)}…"):
        generator = load_generator(spec.model, spec.adapter, template, name, spec.trust_remote_code)
    if spec.note:  # once the model loaded: a reference that resolves to nothing gets its own one-line error
        err_console.print(spec.note, markup=False, highlight=False, soft_wrap=True)
    return spec, generator


def terminal_does_bidi() -> bool:
    """Terminals known to lay out bidirectional text themselves (VTE ≥ 0.76, Konsole, mlterm)."""
    vte = os.environ.get("VTE_VERSION", "")
    return (vte.isdigit() and int(vte) >= 7600) or "KONSOLE_VERSION" in os.environ or \
        os.environ.get("TERM", "").startswith("mlterm")


def visual_line(line: str) -> str:
    """A logical-order line as a terminal without bidi must print it (Arabic letters joined, RTL reversed)."""
    if not any("\u0590" <= c <= "\u08ff" or "\ufb1d" <= c <= "\ufefc" for c in line):
        return line
    import arabic_reshaper
    from bidi import get_display

    return get_display(arabic_reshaper.reshape(line))


class Printer:
    """Streams pieces to the console; in visual mode, whole lines (they can only be reordered when complete)."""

    def __init__(self, visual: bool):
        self.visual = visual
        self.pending = ""

    def piece(self, text: str) -> None:
        if not self.visual:
            console.print(text, end="", markup=False, highlight=False)
            return
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            console.print(visual_line(line), markup=False, highlight=False)

    def flush(self) -> None:
        if self.visual and self.pending:
            console.print(visual_line(self.pending), end="", markup=False, highlight=False)
        self.pending = ""


def _log_interventions() -> None:
    """Safety interventions and server errors on stderr, beside uvicorn's access log."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    for name in ("medadapt.safety", "medadapt.serve"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)


def chat(
    target: Annotated[str, typer.Argument(help="A run directory (runs/<name>), an exported model, or a model alias/directory.")],
    system: Annotated[Optional[str], typer.Option(help="System prompt (overrides the recipe's).")] = None,
    max_new_tokens: Annotated[Optional[int], typer.Option(min=1, help="Longest answer, in tokens.")] = None,
    temperature: Annotated[Optional[float], typer.Option(min=0.0, help="Sampling temperature (0 = greedy).")] = None,
    chat_template: Annotated[Optional[str], typer.Option(help="Template name or YAML file, for a model without one.")] = None,
    safety: Annotated[bool, typer.Option("--safety/--no-safety", help="The medical safety layer (red flags, disclaimer, language guard).")] = True,
    safety_dir: Annotated[Optional[Path], typer.Option(help="A folder of <lang>.yaml safety packs that add or replace the shipped ones.")] = None,
    rtl: Annotated[str, typer.Option(help=RTL_HELP)] = "auto",
    country: Annotated[Optional[str], typer.Option(help=COUNTRY_HELP)] = None,
) -> None:
    """Talk to the trained model. Commands: /reset, /system TEXT, /save FILE, /exit. Ctrl-C stops an answer."""
    from medadapt.serve.chat import ChatSession

    if rtl not in ("auto", "visual", "logical"):
        raise ServeError("--rtl must be auto, visual or logical")
    spec, generator = _load(target, chat_template)
    if max_new_tokens:
        spec.settings.max_new_tokens = max_new_tokens
    if temperature is not None:
        spec.settings.temperature = temperature
    layer = _safety(spec.languages, safety, safety_dir, "first", None, country or spec.settings.country)
    session = ChatSession(generator, spec.settings, layer)
    if system is not None:
        session.system_prompt = system
    interactive = sys.stdin.isatty()
    visual = rtl == "visual" or (rtl == "auto" and sys.stdout.isatty() and not terminal_does_bidi())
    console.print(f"[bold]medadapt chat[/bold] · {escape(spec.description)}\n"
                  "Type a question; /reset, /system TEXT, /save FILE, /exit. Ctrl-C stops an answer."
                  + ("" if layer else "\n[yellow]The safety layer is off.[/yellow]"))
    while True:
        try:
            line = console.input("[bold cyan]you> [/bold cyan]") if interactive else sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            break
        if not interactive and line == "":
            break
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            break
        if text == "/reset":
            session.reset()
            console.print("[dim](history cleared)[/dim]")
            continue
        if text.startswith("/system"):
            session.system_prompt = text[len("/system"):].strip() or None
            console.print("[dim](system prompt set)[/dim]")
            continue
        if text.startswith("/save"):
            name = text[len("/save"):].strip()
            if not name:
                console.print("[yellow]usage: /save FILE[/yellow]")
                continue
            path = Path(name).expanduser()
            try:
                write_json(path, {"model": spec.description, "messages": session.messages()}, final_newline=True)
            except OSError as exc:
                console.print(f"[red]cannot save: {exc}[/red]")
                continue
            console.print(f"[dim](conversation saved to {path})[/dim]")
            continue
        if not interactive:
            console.print(f"[bold cyan]you>[/bold cyan] {visual_line(text) if visual else text}")
        console.print("[bold green]assistant>[/bold green] ", end="")
        printer = Printer(visual)
        session.reply(
            text, on_token=printer.piece,
            on_trim=lambda n: console.print(f"[dim](dropped {n} oldest exchange(s) to fit the context window)[/dim]"),
        )
        printer.flush()
        console.print()
        reply = session.last_reply
        if reply is not None:
            for event in reply.interventions:
                if event["type"] != "disclaimer":
                    console.print(f"[dim](safety: {_describe(event)})[/dim]")


def _describe(event: dict[str, Any]) -> str:
    if event["type"] == "red_flag":
        return f"red flag {', '.join(event['categories'])}: emergency guidance shown first"
    if event["type"] == "language_guard":
        return f"answer out of {event['lang']} script (share {event['script_share']}): {event['action']}"
    return json.dumps(event, ensure_ascii=False)


def _upstream(url: str, model: Optional[str], key_env: Optional[str], timeout_s: float, connections: int):
    """Guard mode's model: ``model`` (default: the first the upstream lists) on the server at ``url``."""
    from medadapt.serve.upstream import UpstreamModel, upstream_models

    if not url.startswith(("http://", "https://")):
        raise ServeError(f"--upstream {url!r}: expected the server's base URL, e.g. http://127.0.0.1:8001/v1")
    key = None
    if key_env:
        key = os.environ.get(key_env)
        if not key:
            raise ServeError(f"--upstream-key-env {key_env}: that environment variable is not set")
    return UpstreamModel(url, model or upstream_models(url, key, timeout_s)[0], key, timeout_s, connections)


def serve(
    target: Annotated[Optional[str], typer.Argument(help="A run directory (runs/<name>), an exported model, or a model alias/directory; none with --upstream.")] = None,
    host: Annotated[str, typer.Option(help="Address to bind. Default loopback only; another host only when you ask.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8000,
    api_key: Annotated[Optional[str], typer.Option(envvar="MEDADAPT_API_KEY", help="Require Authorization: Bearer KEY (or set MEDADAPT_API_KEY).")] = None,
    model_id: Annotated[Optional[str], typer.Option(help="The model name clients use; default: the run's name (guard mode: the upstream model's).")] = None,
    max_concurrent: Annotated[Optional[int], typer.Option(min=1, help="Generations at once; default 1 for a local model, 8 in guard mode.")] = None,
    max_queue: Annotated[int, typer.Option(min=0, help="Requests waiting for a slot; more get 429.")] = 8,
    max_tokens: Annotated[int, typer.Option(min=1, help="The largest max_tokens a request may ask for.")] = 1024,
    max_messages: Annotated[int, typer.Option(min=1, help="Most messages in one request.")] = 64,
    max_request_bytes: Annotated[int, typer.Option(min=1024, help="Largest request body.")] = 256 * 1024,
    chat_template: Annotated[Optional[str], typer.Option(help="Template name or YAML file, for a model without one.")] = None,
    safety: Annotated[bool, typer.Option("--safety/--no-safety", help="The medical safety layer.")] = True,
    safety_dir: Annotated[Optional[Path], typer.Option(help="A folder of <lang>.yaml safety packs that add or replace the shipped ones.")] = None,
    disclaimer: Annotated[str, typer.Option(help="Disclaimer on the first reply of a conversation, every reply, or off.")] = "first",
    safety_log: Annotated[Optional[Path], typer.Option(help="Also append every safety intervention to this JSONL file.")] = None,
    upstream: Annotated[Optional[str], typer.Option(help="Guard mode: put the safety layer in front of this OpenAI-compatible server (its base URL with /v1: vLLM, llama.cpp, Ollama, a hosted API) instead of serving a local model.")] = None,
    upstream_model: Annotated[Optional[str], typer.Option(help="Guard mode: the upstream model to use; default: the first its /v1/models lists.")] = None,
    upstream_key_env: Annotated[Optional[str], typer.Option(help="Guard mode: the environment variable holding the upstream's API key (never put the key itself on the command line).")] = None,
    upstream_timeout: Annotated[float, typer.Option(min=0.1, help="Guard mode: seconds to wait for the upstream to connect or send its next bytes; then 504.")] = 120.0,
    country: Annotated[Optional[str], typer.Option(help=COUNTRY_HELP)] = None,
) -> None:
    """An OpenAI-compatible server: POST /v1/chat/completions (streaming or not), GET /v1/models, GET /health.
    With --upstream, guard mode: the same server and safety layer in front of another OpenAI-compatible server."""
    from medadapt.serve.planner import ServeConfig
    from medadapt.serve.server import create_app, is_loopback, run_server

    if disclaimer not in ("first", "always", "off"):
        raise ServeError("--disclaimer must be first, always or off")
    if (target is None) == (upstream is None):
        raise ServeError("give a model to serve (a run, an export, a model) or --upstream URL" +
                         (", not both" if target else ""))
    limits = dict(api_key=api_key, max_request_bytes=max_request_bytes, max_messages=max_messages,
                  max_tokens_limit=max_tokens, max_queue=max_queue)
    if upstream:
        generator = _upstream(upstream, upstream_model, upstream_key_env, upstream_timeout, max_concurrent or 8)
        name = model_id or generator.model
        config = ServeConfig(model_id=name, max_concurrent=max_concurrent or 8,
                             default_max_tokens=min(ServeConfig.default_max_tokens, max_tokens), **limits)
        languages, description = [], f"guard mode in front of {upstream}, model {generator.model}"
    else:
        spec, generator = _load(target, chat_template, model_id)
        name = generator.model_id
        s = spec.settings
        config = ServeConfig(model_id=name, default_max_tokens=min(s.max_new_tokens, max_tokens),
                             max_concurrent=max_concurrent or 1, temperature=s.temperature, top_p=s.top_p,
                             repetition_penalty=s.repetition_penalty, system_prompt=s.system_prompt, **limits)
        languages, description = spec.languages, spec.description
        country = country or s.country
    layer = _safety(languages, safety, safety_dir, disclaimer, safety_log, country)
    _log_interventions()
    app = create_app(generator, config, layer)
    if not is_loopback(host):
        err_console.print(f"[yellow]Listening on {host}: reachable from other machines"
                          + ("" if api_key else " and WITHOUT an API key (--api-key)") + ".[/yellow]")
    console.print(f"[bold]medadapt serve[/bold] · model [bold]{escape(name)}[/bold] ({escape(description)})\n"
                  f"OpenAI base URL: http://{host}:{port}/v1" + ("  (Bearer key required)" if api_key else "")
                  + ("" if layer else "\n[yellow]The safety layer is off.[/yellow]"))
    try:
        run_server(app, host, port)
    finally:
        if upstream:
            generator.close()


def export(
    run: Annotated[Path, typer.Argument(help="A run directory (runs/<name>) with a trained model.")],
    to: Annotated[Path, typer.Option("--to", help="The folder to write (a Hugging Face model directory).")],
    gguf: Annotated[Optional[list[str]], typer.Option("--gguf", help="Also write DIR/model-TYPE.gguf and an Ollama Modelfile; TYPE: f16, q8_0, q4_k_m (repeat or comma-separate for several; needs the llamacpp extra).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the folder if it exists.")] = False,
    licence: Annotated[Optional[list[str]], typer.Option("--licence", help="SOURCE=LICENCE for the model card (repeatable).")] = None,
) -> None:
    """Write a merged model directory with a model card (data sources, recipe, evaluation, limits)."""
    from medadapt.serve.export import export_run

    licences = {}
    for item in licence or []:
        source, sep, text = item.partition("=")
        if not sep or not source.strip() or not text.strip():
            raise ServeError(f"--licence {item!r}: expected SOURCE=LICENCE")
        licences[source.strip()] = text.strip()
    kinds = [kind.strip().lower() for item in gguf or [] for kind in item.split(",") if kind.strip()]
    outcome = export_run(run, to, gguf=kinds, force=force, licences=licences,
                         log=lambda m: console.print(f"[dim]{m}[/dim]"))
    console.print(f"[green]✓[/green] exported to [bold]{outcome['dir']}[/bold] (model card: {outcome['dir']}/README.md)")
    for path in outcome["gguf"]:
        console.print(f"[green]✓[/green] GGUF: {path}  (medadapt chat {path})")
    if outcome["modelfile"]:
        console.print(f"[green]✓[/green] Ollama: ollama create NAME -f {outcome['modelfile']}")
