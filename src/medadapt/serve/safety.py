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
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from medadapt.llm.streaming import Generation, GenParams, StopFlag
from medadapt.serve.redflags.detector import Detection, Detector, Finding
from medadapt.serve.redflags.rules import (Context, RedFlagCategory, SafetyError, guidance, numbers, one_line,
                                           parse_context, parse_red_flags)
from medadapt.text.fold import KEYBOARD, Fold, fold
from medadapt.text.scripts import script_shares
from medadapt.text.segment import words

log = logging.getLogger("medadapt.safety")
PACKS_DIR = Path(__file__).with_name("safety")
DisclaimerMode = Literal["first", "always", "off"]


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
    context: Context = Context()
    country: str | None = None  # ISO 3166-1 code whose numbers the guidance names when the recipe names none
    crisis_line: str = ""  # added to the suicidal guidance where the country has a crisis line: {crisis}
    digits: Literal["latin", "persian"] = "latin"  # how the numbers are written in this language's text
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
        # words with the keyboard letters folded: Persian typed on an Arabic keyboard (ي, ك) reads as Persian
        tokens = [fold(w, KEYBOARD).casefold() for w in words(text, self.lang)]
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
        flags = parse_red_flags(raw, path)
        scripts = raw["script"] if isinstance(raw["script"], list) else [raw["script"]]
        try:
            bounds = {script: (float(lo), float(hi)) for script, (lo, hi) in (raw.get("script_bounds") or {}).items()}
        except (TypeError, ValueError, AttributeError) as exc:
            raise SafetyError(f"bad script_bounds (script: [lowest, highest]): {exc}", file=str(path)) from None
        return cls(
            lang=raw["lang"], name=raw.get("name", raw["lang"]), scripts=tuple(scripts), script_bounds=bounds,
            min_script_share=float(raw.get("min_script_share", 0.75)), guard_window=int(raw.get("guard_window", 40)),
            language_instruction=raw.get("language_instruction", ""), language_note=raw.get("language_note", ""),
            emergency_header=raw["emergency_header"], disclaimer=one_line(raw["disclaimer"]),
            red_flags=flags, context=parse_context(raw, path), country=raw.get("country"),
            crisis_line=one_line(raw.get("crisis_line", "")), digits=raw.get("digits", "latin"),
            file=str(path), cue_letters=raw.get("cue_letters", ""),
            cue_words=frozenset(fold(w, KEYBOARD).casefold() for w in raw.get("cue_words") or ()),
            cue_prefixes=tuple(raw.get("cue_prefixes") or ()),
        )


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


class Notice(str):
    """Text the safety layer adds to an answer, not the model's words: ``kind`` is ``guidance`` (emergency
    guidance, before the answer), ``disclaimer`` or ``note`` (the language note). A ``str``, so every reader of
    ``Reply.pieces()`` gets it as text; the server also marks its stream chunks so a page can show it apart."""

    kind: str

    def __new__(cls, text: str, kind: str) -> Notice:
        notice = super().__new__(cls, text)
        notice.kind = kind
        return notice


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
                 log_file: Path | None = None, country: str | None = None, semantic: bool = True):
        self.packs = packs if packs is not None else load_packs()
        self.country = country
        if country is not None:
            numbers(country)  # an unknown country is refused now, not at the first emergency
        self.detector = Detector(self.packs, semantic=semantic)
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

    def red_flags(self, text: str) -> list[Finding]:
        """Every category ``text`` raises (one finding each, with its evidence)."""
        return self.detection(text).findings

    def detection(self, text: str) -> Detection:
        """What the detector found in ``text`` and what it set aside as negated or past."""
        return self.detector.detect(text, self.detect_language(text))

    def guidance(self, category: str, lang: str) -> str:
        """``lang``'s guidance for ``category``, with the numbers of the recipe's country, else of the pack's
        own, else the default ones."""
        pack = self.packs[lang]
        table = numbers(self.country or pack.country)
        if pack.digits != "latin":
            table = {key: fold(value, Fold(digits=pack.digits)) for key, value in table.items()}
        return guidance(pack.red_flags[category], pack.crisis_line, table)

    def disclaimer_text(self, voice: LanguagePack) -> str:
        """``voice``'s disclaimer with the emergency number where the user is."""
        number = numbers(self.country or voice.country)["emergency"]
        return voice.disclaimer.format(emergency=fold(number, Fold(digits=voice.digits)))

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
            detection = self.detector.detect(user, lang)
            flags = detection.findings
            if flags:
                # in the conversation's language; a category only another pack has, in that pack's
                texts = [voice.emergency_header] + [
                    self.guidance(f.category, voice.lang if f.category in voice.red_flags else f.lang) for f in flags]
                self.record(reply, {"type": "red_flag", "categories": [f.category for f in flags], "lang": voice.lang,
                                    "matched_lexicons": sorted({f.lang for f in flags}), "action": "guidance_first",
                                    "evidence": [{"category": f.category, "source": f.source, "found": f.evidence}
                                                 for f in flags], "set_aside": detection.set_aside})
                yield Notice("\n".join(texts) + "\n\n", "guidance")
        if self.language_guard and pack is not None:
            yield from self._guarded(reply, generator, messages, params, stop, pack)
        else:
            yield from self._plain(reply, generator.stream(messages, params, stop))
        if voice is not None and self._wants_disclaimer(messages):
            self.record(reply, {"type": "disclaimer", "lang": voice.lang})
            yield Notice("\n\n" + self.disclaimer_text(voice), "disclaimer")

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
                yield Notice("\n\n" + pack.language_note, "note")
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
