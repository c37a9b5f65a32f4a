"""Text normalisation per language, driven by the tables in ``data/normalize``.

Persian and Arabic share code points that are spelled differently in each (ك/ک, ي/ی): unifying them per
language makes deduplication, keyword matching and decontamination see the same word as the same string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pyarabic import araby

from medadapt.curate.resources import load_yaml

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
LATIN_DIGITS = "0123456789"
TO_LATIN_DIGITS = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, LATIN_DIGITS * 2)
TO_PERSIAN_DIGITS = str.maketrans(LATIN_DIGITS + ARABIC_DIGITS, PERSIAN_DIGITS * 2)
# Arabic Presentation Forms-A and -B: glyph variants (ﻋﻀﻼ) that PDF extraction leaves; NFKC maps them back
PRESENTATION_FORMS = re.compile("[\uFB50-\uFDFF\uFE70-\uFEFF]+")
# Unicode category Cc is exactly U+0000–U+001F and U+007F–U+009F; newline and tab are kept
CONTROL = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\n\t"]


@dataclass(frozen=True)
class NormalizeOptions:
    digits: str = "latin"  # latin | persian | keep
    remove_diacritics: bool = False
    repair_zwnj: bool = True


def _fold_presentation_forms(text: str) -> str:
    return PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


class Normalizer:
    """Normalise one text for a given language; tables are read once."""

    def __init__(self, options: NormalizeOptions = NormalizeOptions()):
        self.options = options
        characters = load_yaml("normalize/characters.yaml")
        removed = [*CONTROL, *characters["remove"]]
        self._invisible = str.maketrans({c: None for c in removed} | {c: " " for c in characters["space"]})
        self._letters = {lang: str.maketrans(table) for lang, table in load_yaml("normalize/letters.yaml").items()}
        self._zwnj = {
            lang: [(re.compile(rule["pattern"]), rule["replace"]) for rule in rules]
            for lang, rules in load_yaml("normalize/zwnj.yaml").items()
        }

    def __call__(self, text: str, lang: str) -> str:
        text = _fold_presentation_forms(text)
        text = text.replace("\r\n", "\n").replace("\r", "\n").translate(self._invisible)
        if lang in self._letters:
            text = text.translate(self._letters[lang])
        if self.options.remove_diacritics:
            text = araby.strip_tashkeel(text)
        if self.options.digits == "latin":
            text = text.translate(TO_LATIN_DIGITS)
        elif self.options.digits == "persian":
            text = text.translate(TO_PERSIAN_DIGITS)
        text = normalize_whitespace(text)
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
