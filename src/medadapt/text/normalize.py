"""Text normalisation per language (curate's normalize step): invisible characters, spaces, width and
compatibility forms (Chinese, Japanese, Korean), Traditional → Simplified Chinese on request, the language's
spelling (``data/letters.yaml``, through :mod:`medadapt.text.fold`), digits, Persian ZWNJ repair.

Persian and Arabic share code points that are spelled differently in each (ك/ک, ي/ی): unifying them per
language makes deduplication, keyword matching and decontamination see the same word as the same string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from medadapt.text.fold import Fold, fold, spelling
from medadapt.text.tables import language, load_yaml

# Arabic Presentation Forms-A and -B: glyph variants (ﻋﻀﻼ) that PDF extraction leaves; NFKC maps them back
PRESENTATION_FORMS = re.compile("[\uFB50-\uFDFF\uFE70-\uFEFF]+")
# Unicode category Cc is exactly U+0000–U+001F and U+007F–U+009F; newline and tab are kept
CONTROL = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\n\t"]


@dataclass(frozen=True)
class NormalizeOptions:
    digits: str = "latin"  # latin | persian | keep
    remove_diacritics: bool = False
    repair_zwnj: bool = True
    simplified_chinese: bool = False  # zh text in Simplified characters (OpenCC t2s)


def _nfkc(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", match.group())


def _fold_presentation_forms(text: str) -> str:
    return PRESENTATION_FORMS.sub(_nfkc, text)


@cache
def _width_forms(keep: str) -> re.Pattern[str]:
    """Runs of the width and compatibility forms of ``characters.yaml``, other than ``keep``."""
    ranges = "".join(f"\\U{lo:08X}-\\U{hi:08X}" for lo, hi in load_yaml("characters.yaml")["width"])
    kept = f"(?![{re.escape(keep)}])" if keep else ""
    return re.compile(f"(?:{kept}[{ranges}])+")


def fold_width(text: str, lang: str | None) -> str:
    """``text`` with runs of width and compatibility forms in NFKC form, where ``lang`` asks for it
    (``languages.yaml`` ``width``): ＣＴ検査 → CT検査, ｶﾞ → ガ, ㎎ → mg; its own full-width punctuation kept."""
    width = language(lang).get("width")
    return text if width is None else _width_forms(width.get("keep", "")).sub(_nfkc, text)


@cache
def _to_simplified() -> Any:
    import opencc  # only for recipes that ask for it

    return opencc.OpenCC("t2s")


class Normalizer:
    """Normalise one text for a given language; tables are read once."""

    def __init__(self, options: NormalizeOptions = NormalizeOptions()):
        self.options = options
        characters = load_yaml("characters.yaml")
        removed = [*CONTROL, *characters["remove"]]
        self._invisible = str.maketrans({c: None for c in removed} | {c: " " for c in characters["space"]})
        self._zwnj = {
            lang: [(re.compile(rule["pattern"]), rule["replace"]) for rule in rules]
            for lang, rules in load_yaml("zwnj.yaml").items()
        }
        self._folds: dict[str, Fold] = {}

    def _fold(self, lang: str) -> Fold:
        if lang not in self._folds:
            marks = "tashkeel" if self.options.remove_diacritics else "keep"
            digits = self.options.digits
            self._folds[lang] = Fold(letters=spelling(lang), marks=marks, digits=digits)  # type: ignore[arg-type]
        return self._folds[lang]

    def __call__(self, text: str, lang: str) -> str:
        text = _fold_presentation_forms(text)
        text = text.replace("\r\n", "\n").replace("\r", "\n").translate(self._invisible)
        text = fold_width(text, lang)
        if self.options.simplified_chinese and lang == "zh":
            text = _to_simplified().convert(text)
        text = normalize_whitespace(fold(text, self._fold(lang)))
        if self.options.repair_zwnj:
            for pattern, replacement in self._zwnj.get(lang, []):
                text = pattern.sub(replacement, text)
        return text


_SPACES = re.compile(r"[ \t\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_whitespace(text: str) -> str:
    """One space between words, no trailing spaces, at most one empty line between paragraphs."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
