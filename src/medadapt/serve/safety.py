"""The medical safety layer, shared by ``medadapt chat`` and ``medadapt serve``.

Per language, a data file (``safety/<lang>.yaml``: en, fa, ar shipped; a folder of your own adds or replaces
languages) gives a red-flag lexicon with emergency guidance, a disclaimer and an output-language guard:

- **red flags**: the user's last message is matched against every language's lexicon; each category raised
  puts its emergency guidance *before* the model's answer, whatever the model says.
- **language guard**: the answer must be written in the conversation's script. A streamed answer is held back
  until its first ``guard_window`` letters are checked; off-script → the answer is dropped and regenerated
  once (with an instruction to answer in the language); off-script again → it is sent with a note and
  flagged. Drift after the checked window cannot be taken back from a stream: it is flagged at the end.
- **disclaimer**: appended to the first reply of a conversation (or every reply, or never).

Every intervention is logged (logger ``medadapt.safety``, and a JSONL file when one is given) and returned
with the reply (``Reply.interventions``; the server sends them as ``medadapt.interventions``).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from medadapt.errors import MedadaptError
from medadapt.serve.generation import Generation, GenParams, StopFlag

log = logging.getLogger("medadapt.safety")
PACKS_DIR = Path(__file__).with_name("safety")
DisclaimerMode = Literal["first", "always", "off"]


class SafetyError(MedadaptError):
    """A safety pack that cannot be read."""


_LETTER_MAP = str.maketrans({
    "ي": "ی", "ى": "ی", "ئ": "ی", "ك": "ک", "ة": "ه", "ؤ": "و", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "\u200c": " ", "\u200d": "", "\u0640": "", "\u00a0": " ",
    **{chr(0x06F0 + i): str(i) for i in range(10)}, **{chr(0x0660 + i): str(i) for i in range(10)},
})
_MARKS = re.compile(r"[\u064B-\u065F\u0670\u06D6-\u06ED]")
_SPACES = re.compile(r"\s+")


def normalize(text: str, lower: bool = True) -> str:
    """Lower case, Arabic/Persian letter variants unified, diacritics and tatweel gone, ZWNJ as a space."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("’", "'").replace("‘", "'")
    text = _SPACES.sub(" ", _MARKS.sub("", text.translate(_LETTER_MAP))).strip()
    return text.lower() if lower else text


def script_of(char: str) -> str | None:
    """'latin', 'arabic' or 'other' for a letter; None for anything that is not a letter."""
    if not unicodedata.category(char).startswith("L"):
        return None
    code = ord(char)
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    return "other"


def script_shares(text: str) -> tuple[dict[str, float], int]:
    """Share of letters per script, and the number of letters."""
    counts: dict[str, int] = {}
    for char in text:
        script = script_of(char)
        if script:
            counts[script] = counts.get(script, 0) + 1
    total = sum(counts.values())
    return ({k: v / total for k, v in counts.items()} if total else {}), total




@dataclass
class RedFlagCategory:
    name: str
    guidance: str
    rules: list[list[re.Pattern]]

    def matches(self, normalized: str) -> bool:
        return any(all(p.search(normalized) for p in rule) for rule in self.rules)


@dataclass
class LanguagePack:
    lang: str
    name: str
    script: str
    min_script_share: float
    guard_window: int
    language_instruction: str
    language_note: str
    emergency_header: str
    disclaimer: str
    red_flags: dict[str, RedFlagCategory]
    file: str = ""
    cue_letters: str = ""
    cue_words: frozenset[str] = frozenset()
    cue_prefixes: tuple[str, ...] = ()

    def cue_score(self, text: str) -> int:
        """How much ``text`` looks like this language among those sharing its script."""
        words = text.split()
        return (2 * sum(c in self.cue_letters for c in text) + sum(w in self.cue_words for w in words)
                + sum(any(w.startswith(p) and len(w) > len(p) + 1 for p in self.cue_prefixes) for w in words))

    @classmethod
    def load(cls, path: Path) -> LanguagePack:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SafetyError(f"cannot read: {exc}", file=str(path)) from None
        required = ("lang", "script", "disclaimer", "emergency_header", "red_flags")
        missing = [k for k in required if not isinstance(raw, dict) or k not in raw]
        if missing:
            raise SafetyError(f"missing {', '.join(missing)}", file=str(path))
        flags = {}
        for name, spec in raw["red_flags"].items():
            try:
                rules = [[re.compile(normalize(expr, lower=False)) for expr in rule] for rule in spec["rules"]]
            except (re.error, KeyError, TypeError) as exc:
                raise SafetyError(f"bad rule: {exc}", file=str(path), field=f"red_flags.{name}") from None
            flags[name] = RedFlagCategory(name, " ".join(spec["guidance"].split()), rules)
        return cls(
            lang=raw["lang"], name=raw.get("name", raw["lang"]), script=raw["script"],
            min_script_share=float(raw.get("min_script_share", 0.75)), guard_window=int(raw.get("guard_window", 40)),
            language_instruction=raw.get("language_instruction", ""), language_note=raw.get("language_note", ""),
            emergency_header=raw["emergency_header"], disclaimer=" ".join(raw["disclaimer"].split()),
            red_flags=flags, file=str(path), cue_letters=raw.get("cue_letters", ""),
            cue_words=frozenset(raw.get("cue_words") or ()), cue_prefixes=tuple(raw.get("cue_prefixes") or ()),
        )


@dataclass
class RedFlag:
    category: str
    lang: str  # the lexicon that matched


def load_packs(extra_dir: Path | None = None) -> dict[str, LanguagePack]:
    """The shipped packs, then any ``<lang>.yaml`` in ``extra_dir`` (adds a language or replaces one)."""
    packs = {p.lang: p for p in (LanguagePack.load(f) for f in sorted(PACKS_DIR.glob("*.yaml")))}
    if extra_dir is not None:
        files = sorted(Path(extra_dir).glob("*.yaml"))
        if not files:
            raise SafetyError("no <lang>.yaml safety packs in this folder", file=str(extra_dir))
        packs.update({p.lang: p for p in (LanguagePack.load(f) for f in files)})
    return packs


class GeneratorLike(Protocol):
    def stream(self, messages: list[dict[str, str]], params: GenParams, stop: StopFlag | None = None) -> Generation: ...


@dataclass
class Reply:
    """A reply being produced: iterate ``pieces()`` for text as it may be shown; then ``text``, the
    ``interventions``, ``finish_reason`` and token counts are final."""

    text: str = ""
    lang: str | None = None
    interventions: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    _pieces: Iterator[str] | None = None

    def pieces(self) -> Iterator[str]:
        assert self._pieces is not None
        for piece in self._pieces:
            self.text += piece
            yield piece

    def collect(self) -> str:
        for _ in self.pieces():
            pass
        return self.text


class SafetyLayer:
    def __init__(self, packs: dict[str, LanguagePack] | None = None, default_lang: str = "en",
                 disclaimer: DisclaimerMode = "first", red_flags: bool = True, language_guard: bool = True,
                 log_file: Path | None = None):
        self.packs = packs if packs is not None else load_packs()
        self.default_lang = default_lang if default_lang in self.packs else next(iter(self.packs), "en")
        self.disclaimer = disclaimer
        self.check_red_flags = red_flags
        self.language_guard = language_guard
        self.log_file = Path(log_file) if log_file else None
        self._log_lock = threading.Lock()

    # -- detection ------------------------------------------------------------------------------------------
    def detect_language(self, text: str) -> str:
        """The conversation language from a user message: its script, then Persian/Arabic-only letters."""
        shares, letters = script_shares(text)
        if not letters:
            return self.default_lang
        script = max(shares, key=shares.get)
        candidates = [p.lang for p in self.packs.values() if p.script == script]
        if not candidates:
            return self.default_lang
        if len(candidates) > 1:
            scores = {lang: self.packs[lang].cue_score(text) for lang in candidates}
            best = max(scores.values())
            leaders = [lang for lang, score in scores.items() if score == best]
            if len(leaders) == 1:
                return leaders[0]
        return self.default_lang if self.default_lang in candidates else candidates[0]

    def red_flags(self, text: str) -> list[RedFlag]:
        """Every category raised by ``text`` in any language's lexicon (one entry per category)."""
        normalized = normalize(text)
        found: dict[str, RedFlag] = {}
        for pack in self.packs.values():
            for category in pack.red_flags.values():
                if category.name not in found and category.matches(normalized):
                    found[category.name] = RedFlag(category.name, pack.lang)
        return list(found.values())

    def off_script(self, text: str, lang: str) -> tuple[bool, float]:
        """Whether ``text`` drifts out of ``lang``'s script, and the share of its letters in that script."""
        pack = self.packs.get(lang)
        shares, letters = script_shares(text)
        if pack is None or not letters:
            return False, 1.0
        share = shares.get(pack.script, 0.0)
        return share < pack.min_script_share, round(share, 3)

    # -- logging --------------------------------------------------------------------------------------------
    def record(self, reply: Reply, event: dict[str, Any]) -> None:
        reply.interventions.append(event)
        log.info("safety intervention: %s", json.dumps(event, ensure_ascii=False))
        if self.log_file:
            line = json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **event}, ensure_ascii=False)
            with self._log_lock:
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
                with self.log_file.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")

    # -- the reply ------------------------------------------------------------------------------------------
    def respond(self, generator: GeneratorLike, messages: list[dict[str, str]], params: GenParams,
                stop: StopFlag | None = None) -> Reply:
        """Wrap the model's streamed answer to ``messages`` (the last one is the user's) in the safety layer."""
        reply = Reply()
        reply._pieces = self._run(reply, generator, messages, params, stop or StopFlag())
        return reply

    def _run(self, reply: Reply, generator: GeneratorLike, messages: list[dict[str, str]], params: GenParams,
             stop: StopFlag) -> Iterator[str]:
        users = [m["content"] for m in messages if m["role"] == "user"]
        user = users[-1] if users else ""
        # a short last message ("ok", "و بعد؟") says little about the language: use the whole conversation's
        lang = reply.lang = self.detect_language(user if script_shares(user)[1] >= 8 else " ".join(users))
        pack = self.packs.get(lang)
        if self.check_red_flags and pack is not None:
            flags = self.red_flags(user)
            if flags:
                guidance = [pack.emergency_header] + [
                    (pack.red_flags.get(f.category) or self.packs[f.lang].red_flags[f.category]).guidance for f in flags
                ]
                self.record(reply, {"type": "red_flag", "categories": [f.category for f in flags], "lang": lang,
                                    "matched_lexicons": sorted({f.lang for f in flags}), "action": "guidance_first"})
                yield "\n".join(guidance) + "\n\n"
        if self.language_guard and pack is not None:
            yield from self._guarded(reply, generator, messages, params, stop, pack)
        else:
            yield from self._plain(reply, generator.stream(messages, params, stop))
        if pack is not None and self._wants_disclaimer(messages):
            self.record(reply, {"type": "disclaimer", "lang": lang})
            yield "\n\n" + pack.disclaimer

    def _wants_disclaimer(self, messages: list[dict[str, str]]) -> bool:
        if self.disclaimer == "always":
            return True
        return self.disclaimer == "first" and not any(m["role"] == "assistant" for m in messages)

    def _plain(self, reply: Reply, generation: Generation) -> Iterator[str]:
        try:
            yield from generation
        finally:
            generation.close()
            self._account(reply, generation)

    @staticmethod
    def _account(reply: Reply, generation: Generation) -> None:
        reply.prompt_tokens = max(reply.prompt_tokens, generation.prompt_tokens)
        reply.completion_tokens += generation.completion_tokens
        reply.finish_reason = generation.finish_reason

    def _guarded(self, reply: Reply, generator: GeneratorLike, messages: list[dict[str, str]], params: GenParams,
                 stop: StopFlag, pack: LanguagePack) -> Iterator[str]:
        attempt_messages = messages
        for attempt in (1, 2):
            attempt_stop = StopFlag()
            generation = generator.stream(attempt_messages, params, attempt_stop)
            held: list[str] = []
            released = False
            answer = ""
            try:
                for piece in generation:
                    if stop.event.is_set():
                        break
                    answer += piece
                    if released:
                        yield piece
                        continue
                    held.append(piece)
                    if script_shares(answer)[1] >= pack.guard_window:
                        drifted, share = self.off_script(answer, pack.lang)
                        if drifted and attempt == 1:
                            break  # drop it, regenerate below
                        released = True
                        yield "".join(held)
            finally:
                attempt_stop.set()
                generation.close()
                self._account(reply, generation)
            if stop.event.is_set():
                if held and not released:
                    yield "".join(held)
                return
            drifted, share = self.off_script(answer, pack.lang)
            if not drifted:
                if not released:
                    yield "".join(held)
                return
            if attempt == 1 and not released:
                self.record(reply, {"type": "language_guard", "lang": pack.lang, "script_share": share,
                                    "action": "regenerated", "sample": answer[:80]})
                attempt_messages = _with_instruction(messages, pack.language_instruction)
                continue
            if not released:
                yield "".join(held)
            self.record(reply, {"type": "language_guard", "lang": pack.lang, "script_share": share,
                                "action": "flagged", "after_release": released, "attempt": attempt})
            if pack.language_note:
                yield "\n\n" + pack.language_note
            return


def _with_instruction(messages: list[dict[str, str]], instruction: str) -> list[dict[str, str]]:
    """The conversation with ``instruction`` added to its system prompt (or as one)."""
    if not instruction:
        return messages
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n{instruction}"}, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]
