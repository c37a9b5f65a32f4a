"""The medical safety layer, shared by ``medadapt chat`` and ``medadapt serve``.

Per language, a data file (``safety/<lang>.yaml``: en, fa, ar, zh, ja, ko, fr, es shipped; a folder of your own
adds or replaces languages) gives a red-flag lexicon with emergency guidance, a disclaimer and an output-language guard:

- **red flags**: the user's last message is matched against every language's lexicon; each category raised
  puts its emergency guidance *before* the model's answer, whatever the model says.
- **language guard**: the answer must be written in the conversation's script (Japanese: kanji with kana; Chinese:
  Han without kana). A conversation in a script no pack writes is not guarded: judging it against another
  script's pack would drop every answer. A streamed answer is held back
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from medadapt.errors import MedadaptError
from medadapt.llm.streaming import Generation, GenParams, StopFlag
from medadapt.text.fold import LEXICON, LEXICON_PATTERN, fold
from medadapt.text.keywords import Lexicon
from medadapt.text.scripts import script_shares
from medadapt.text.segment import words

log = logging.getLogger("medadapt.safety")
PACKS_DIR = Path(__file__).with_name("safety")
DisclaimerMode = Literal["first", "always", "off"]


class SafetyError(MedadaptError):
    """A safety pack that cannot be read."""


@dataclass
class RedFlagCategory:
    name: str
    guidance: str
    rules: list[list[Lexicon]]

    def matches(self, folded: str) -> bool:
        """Whether any rule has every one of its expressions in ``folded`` (the ``LEXICON`` fold of a text)."""
        return any(all(p.search(folded) for p in rule) for rule in self.rules)


@dataclass
class LanguagePack:
    lang: str
    name: str
    scripts: tuple[str, ...]  # the scripts answers are written in; the first is the one the language is mainly in
    min_script_share: float  # of an answer's letters, the share in ``scripts`` it needs
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
    #: per script, the (lowest, highest) share of letters a text of this language has: kana tells ja from zh
    script_bounds: dict[str, tuple[float, float]] = field(default_factory=dict)

    def script_share(self, shares: dict[str, float]) -> float:
        """The share of a text's letters (``script_shares``) in this language's scripts."""
        return sum(shares.get(script, 0.0) for script in self.scripts)

    def fits(self, shares: dict[str, float], lowest: bool = True) -> bool:
        """Whether letters with these shares can be this language's, as far as ``script_bounds`` tell
        (``lowest=False``: only the highest shares, for a user's message: a few kanji are Japanese too)."""
        for script, (lo, hi) in self.script_bounds.items():
            share = shares.get(script, 0.0)
            if share > hi or (lowest and share < lo):
                return False
        return True

    def cue_score(self, text: str) -> int:
        """How much ``text`` looks like this language among those sharing its script."""
        letters = 2 * sum(c in self.cue_letters for c in text)
        if not (self.cue_words or self.cue_prefixes):
            return letters  # no need to segment (zh, ja)
        tokens = [w.casefold() for w in words(text, self.lang)]
        return (letters + sum(w in self.cue_words for w in tokens)
                + sum(any(w.startswith(p) and len(w) > len(p) + 1 for p in self.cue_prefixes) for w in tokens))

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
                rules = [[Lexicon([fold(expr, LEXICON_PATTERN)], regex=True, whole_words=False) for expr in rule]
                         for rule in spec["rules"]]
            except (re.error, KeyError, TypeError) as exc:
                raise SafetyError(f"bad rule: {exc}", file=str(path), field=f"red_flags.{name}") from None
            flags[name] = RedFlagCategory(name, _one_line(spec["guidance"]), rules)
        scripts = raw["script"] if isinstance(raw["script"], list) else [raw["script"]]
        try:
            bounds = {script: (float(lo), float(hi)) for script, (lo, hi) in (raw.get("script_bounds") or {}).items()}
        except (TypeError, ValueError, AttributeError) as exc:
            raise SafetyError(f"bad script_bounds (script: [lowest, highest]): {exc}", file=str(path)) from None
        return cls(
            lang=raw["lang"], name=raw.get("name", raw["lang"]), scripts=tuple(scripts), script_bounds=bounds,
            min_script_share=float(raw.get("min_script_share", 0.75)), guard_window=int(raw.get("guard_window", 40)),
            language_instruction=raw.get("language_instruction", ""), language_note=raw.get("language_note", ""),
            emergency_header=raw["emergency_header"], disclaimer=_one_line(raw["disclaimer"]),
            red_flags=flags, file=str(path), cue_letters=raw.get("cue_letters", ""),
            cue_words=frozenset(w.casefold() for w in raw.get("cue_words") or ()),
            cue_prefixes=tuple(raw.get("cue_prefixes") or ()),
        )


def _one_line(text: str) -> str:
    """A folded YAML block as one line. Text of a language written without spaces (zh, ja) has none where
    the block broke a line next to one of its characters, so none is put there."""
    lines = text.split()
    out = lines[0] if lines else ""
    for line in lines[1:]:
        out += ("" if _unspaced(out[-1]) or _unspaced(line[0]) else " ") + line
    return out


def _unspaced(char: str) -> bool:
    """A character of a script written without spaces between words, or CJK punctuation."""
    return "\u3000" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef"


@dataclass
class RedFlag:
    category: str
    lang: str  # the lexicon that matched


def available_languages() -> set[str]:
    """Languages with a shipped safety pack (``recipe validate`` checks a trained recipe's languages)."""
    return {path.stem for path in PACKS_DIR.glob("*.yaml")}


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
    def __init__(self, packs: dict[str, LanguagePack] | None = None, languages: Sequence[str] = ("en",),
                 disclaimer: DisclaimerMode = "first", red_flags: bool = True, language_guard: bool = True,
                 log_file: Path | None = None):
        self.packs = packs if packs is not None else load_packs()
        self.default_lang = default_language(languages, self.packs)
        self.disclaimer = disclaimer
        self.check_red_flags = red_flags
        self.language_guard = language_guard
        self.log_file = Path(log_file) if log_file else None
        self._log_lock = threading.Lock()

    # -- detection ------------------------------------------------------------------------------------------
    def detect_language(self, text: str) -> str | None:
        """The conversation language from a user message: its main script (and the bounds a pack sets on
        others: kana rules out Chinese), then cue letters and words (Persian or Arabic; English, French or
        Spanish). None when no pack writes that script: no other script's pack can judge it."""
        shares, letters = script_shares(text)
        if not letters:
            return self.default_lang
        script = max(shares, key=shares.get)
        # packs mainly in this script first: Han alone reads as Chinese before Japanese
        packs = sorted((p for p in self.packs.values() if script in p.scripts and p.fits(shares, lowest=False)),
                       key=lambda p: p.scripts[0] != script)
        candidates = [p.lang for p in packs]
        if not candidates:
            return None
        if len(candidates) > 1:
            scores = {lang: self.packs[lang].cue_score(text) for lang in candidates}
            best = max(scores.values())
            leaders = [lang for lang, score in scores.items() if score == best]
            candidates = leaders
        return self.default_lang if self.default_lang in candidates else candidates[0]

    def red_flags(self, text: str) -> list[RedFlag]:
        """Every category raised by ``text`` in any language's lexicon (one entry per category)."""
        folded = fold(text, LEXICON)
        found: dict[str, RedFlag] = {}
        for pack in self.packs.values():
            for category in pack.red_flags.values():
                if category.name not in found and category.matches(folded):
                    found[category.name] = RedFlag(category.name, pack.lang)
        return list(found.values())

    def off_script(self, text: str, lang: str) -> tuple[bool, float]:
        """Whether ``text`` drifts out of ``lang``'s script, and the share of its letters in that script."""
        pack = self.packs.get(lang)
        shares, letters = script_shares(text)
        if pack is None or not letters:
            return False, 1.0
        share = pack.script_share(shares)
        return share < pack.min_script_share or not pack.fits(shares), round(share, 3)

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
        voice = pack or self.packs.get(self.default_lang)  # who gives guidance and disclaimer
        if self.check_red_flags and voice is not None:
            flags = self.red_flags(user)
            if flags:
                guidance = [voice.emergency_header] + [
                    (voice.red_flags.get(f.category) or self.packs[f.lang].red_flags[f.category]).guidance
                    for f in flags
                ]
                self.record(reply, {"type": "red_flag", "categories": [f.category for f in flags], "lang": voice.lang,
                                    "matched_lexicons": sorted({f.lang for f in flags}), "action": "guidance_first"})
                yield "\n".join(guidance) + "\n\n"
        if self.language_guard and pack is not None:
            yield from self._guarded(reply, generator, messages, params, stop, pack)
        else:
            yield from self._plain(reply, generator.stream(messages, params, stop))
        if voice is not None and self._wants_disclaimer(messages):
            self.record(reply, {"type": "disclaimer", "lang": voice.lang})
            yield "\n\n" + voice.disclaimer

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


def default_language(languages: Sequence[str], packs: dict[str, LanguagePack]) -> str | None:
    """The language of a conversation nothing else tells (no letters): the recipe's first language with a
    pack, else English. Never another pack: a [zh, en] recipe without a zh pack must not judge its Chinese
    answers as Arabic ones."""
    return next((lang for lang in languages if lang in packs), "en" if "en" in packs else None)


def _with_instruction(messages: list[dict[str, str]], instruction: str) -> list[dict[str, str]]:
    """The conversation with ``instruction`` added to its system prompt (or as one)."""
    if not instruction:
        return messages
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n{instruction}"}, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]
