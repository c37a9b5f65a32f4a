"""PII redaction for forum text: typed placeholders, patterns and name rules read from ``data/pii``.

General-purpose tools (presidio, scrubadub) miss Iranian phone formats and the national ID, so the
patterns are ours, as data; checksums (national ID, Luhn) keep ordinary numbers from being redacted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from medadapt.curate.normalize import TO_LATIN_DIGITS
from medadapt.curate.resources import load_yaml


def iran_national_id_ok(number: str) -> bool:
    """کد ملی checksum: weights 10..2 over the first 9 digits, mod 11, against the last digit."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    remainder = sum(d * (10 - i) for i, d in enumerate(digits[:9])) % 11
    return digits[9] == (remainder if remainder < 2 else 11 - remainder)


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


CHECKS: dict[str, Callable[[str], bool]] = {"iran_national_id": iran_national_id_ok, "luhn": luhn_ok}


@dataclass(frozen=True)
class _Rule:
    kind: str
    placeholder: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None


def _name_pattern(rules: dict) -> re.Pattern[str]:
    """Honorific, then a name word (not a known non-name), then optionally a surname-like second word."""
    honorifics = "|".join(re.escape(h) for h in sorted(rules["honorifics"], key=len, reverse=True))
    stop = "|".join(re.escape(w) for w in rules["not_names"])
    endings = "|".join(re.escape(e) for e in rules.get("surname_endings", []))
    latin = all(h.isascii() for h in rules["honorifics"])
    word = r"[A-Z][a-zA-Z'-]+" if latin else r"[^\W\d_][\w\u200c]*"
    not_stop = rf"(?!(?:{stop})(?![\w\u200c]))"
    second = rf"(?:[ ]{not_stop}{word}(?:{endings})(?![\w\u200c]))?" if endings else rf"(?:[ ]{not_stop}{word})?"
    flags = 0 if latin else re.IGNORECASE
    return re.compile(rf"(?<![\w\u200c])(?P<title>{honorifics})(?![\w\u200c])[ ]+(?P<name>{not_stop}{word}{second})", flags)


class Redactor:
    """Replace PII of the chosen types with placeholders, counting each type."""

    def __init__(self, types: list[str]):
        patterns = load_yaml("pii/patterns.yaml")
        self._rules = [
            _Rule(kind, spec["placeholder"], re.compile(p), CHECKS[spec["check"]] if "check" in spec else None)
            for kind, spec in patterns.items() if kind in types
            for p in spec["patterns"]
        ]
        self._names = [_name_pattern(r) for r in load_yaml("pii/names.yaml").values()] if "name" in types else []

    def redact(self, text: str) -> tuple[str, Counter[str]]:
        counts: Counter[str] = Counter()
        for rule in self._rules:
            text = _substitute(rule, text, counts)
        for pattern in self._names:
            text, n = pattern.subn(lambda m: f"{m.group('title')} [NAME]", text)
            counts["name"] += n
        return text, +counts


def _substitute(rule: _Rule, text: str, counts: Counter[str]) -> str:
    """Match on a copy with Latin digits (same length, so the spans carry over) and replace in the original:
    the patterns stay simple and Persian or Arabic-Indic digits are caught all the same."""
    pieces, end = [], 0
    for match in rule.pattern.finditer(text.translate(TO_LATIN_DIGITS)):
        if rule.check and not rule.check(match.group()):
            continue
        pieces += [text[end : match.start()], rule.placeholder]
        end = match.end()
        counts[rule.kind] += 1
    return "".join(pieces) + text[end:] if pieces else text
