"""PII redaction for forum text: typed placeholders, patterns and name rules read from ``data/pii``.

General-purpose tools (presidio, scrubadub) miss Iranian phone formats and the national ID, so the
patterns are ours, as data; checksums (national IDs, Luhn) keep ordinary numbers from being redacted.
A country's domestic formats are matched in its language's text only (``langs`` in ``patterns.yaml``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from medadapt.curate.resources import load_yaml
from medadapt.text.fold import DIGITS, fold


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


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def china_resident_id_ok(number: str) -> bool:
    """居民身份证号 (GB 11643): a real birth date, and ISO 7064 MOD 11-2 over the first 17 digits."""
    body, last = number[:17], number[17:].upper()
    if not _is_date(int(body[6:10]), int(body[10:12]), int(body[12:14])):
        return False
    remainder = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body)) % 11
    return last == "10X98765432"[remainder]


def korea_rrn_ok(number: str) -> bool:
    """주민등록번호: the first six digits a real birth date in the century the seventh names (1, 2, 5, 6:
    1900s; 3, 4, 7, 8: 2000s). The old mod-11 check digit is not asked for: numbers issued since October
    2020 end in random digits."""
    digits = number.replace("-", "")
    century = 1900 if digits[6] in "1256" else 2000
    return _is_date(century + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))


def spain_dni_ok(number: str) -> bool:
    """DNI/NIE control letter: the number (an NIE's X/Y/Z read as 0/1/2) mod 23 indexes the letter table."""
    compact = number.replace("-", "").replace(" ", "").upper()
    digits = str("XYZ".index(compact[0])) + compact[1:-1] if compact[0] in "XYZ" else compact[:-1]
    return compact[-1] == "TRWAGMYFPDXBNJZSQVHLCKE"[int(digits) % 23]


def france_nir_ok(number: str) -> bool:
    """NIR key: 97 minus the first 13 digits mod 97 (Corsica's 2A and 2B read as 19 and 18)."""
    compact = number.replace(" ", "").replace(".", "").upper()
    body = compact[:13].replace("2A", "19").replace("2B", "18")
    return int(compact[13:]) == 97 - int(body) % 97


CHECKS: dict[str, Callable[[str], bool]] = {
    "iran_national_id": iran_national_id_ok, "luhn": luhn_ok, "china_resident_id": china_resident_id_ok,
    "korea_rrn": korea_rrn_ok, "spain_dni": spain_dni_ok, "france_nir": france_nir_ok,
}


@dataclass(frozen=True)
class _Rule:
    kind: str
    placeholder: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None
    langs: frozenset[str] | None  # None: matched in every language's text

    def applies(self, lang: str | None) -> bool:
        return self.langs is None or lang in self.langs


def _rules(kind: str, spec: dict) -> list[_Rule]:
    """One rule per pattern of a type: a bare regex takes the type's check; a mapping may name its own
    check and the languages it applies to."""
    rules = []
    for entry in spec["patterns"]:
        entry = entry if isinstance(entry, dict) else {"regex": entry}
        check = entry.get("check", spec.get("check"))
        langs = frozenset(entry["langs"]) if "langs" in entry else None
        rules.append(_Rule(kind, spec["placeholder"], re.compile(entry["regex"]),
                           CHECKS[check] if check else None, langs))
    return rules


@dataclass(frozen=True)
class _NameRule:
    """One language's name rule: a pattern whose ``name`` group becomes [NAME], and the text languages it
    is looked for in (None: every language's text)."""

    pattern: re.Pattern[str]
    langs: frozenset[str] | None

    def applies(self, lang: str | None) -> bool:
        return self.langs is None or lang in self.langs


def _name_rule(rules: dict) -> _NameRule:
    """Honorific, then a name word (not a known non-name), then optionally a surname-like second word; or,
    with ``order: name_first`` (Chinese 张医生, Japanese 田中さん, Korean 김민수 씨), the name and then the title.
    ``name`` (a regex for one name word) and ``ignore_case`` override what the honorifics' script implies."""
    honorifics = "|".join(re.escape(h) for h in sorted(rules["honorifics"], key=len, reverse=True))
    stop = "|".join(re.escape(w) for w in rules["not_names"])
    endings = "|".join(re.escape(e) for e in rules.get("surname_endings", []))
    latin = all(h.isascii() for h in rules["honorifics"])
    word = rules.get("name") or (r"[A-Z][a-zA-Z'-]+" if latin else r"[^\W\d_][\w\u200c]*")
    flags = re.IGNORECASE if rules.get("ignore_case", not latin) else 0
    langs = frozenset(rules["langs"]) if "langs" in rules else None
    if rules.get("order") == "name_first":  # no word boundaries to lean on: a name may not start with a non-name
        pattern = rf"(?P<name>(?!{stop}){word})(?P<gap>[ ]?)(?P<title>{honorifics})"
        return _NameRule(re.compile(rules.get("before", "") + pattern, flags), langs)
    not_stop = rf"(?!(?:{stop})(?![\w\u200c]))"
    second = rf"(?:[ ]{not_stop}{word}(?:{endings})(?![\w\u200c]))?" if endings else rf"(?:[ ]{not_stop}{word})?"
    return _NameRule(re.compile(
        rf"(?<![\w\u200c])(?P<title>{honorifics})(?![\w\u200c])[ ]+(?P<name>{not_stop}{word}{second})", flags), langs)


def _replace_name(match: re.Match[str]) -> str:
    """The name replaced, the title kept: ``Dr. [NAME]``, ``[NAME]医生``, ``[NAME] 씨``."""
    if match.start("title") < match.start("name"):
        return f"{match.group('title')} [NAME]"
    return f"[NAME]{match.group('gap')}{match.group('title')}"


class Redactor:
    """Replace PII of the chosen types with placeholders, counting each type."""

    def __init__(self, types: list[str]):
        patterns = load_yaml("pii/patterns.yaml")
        self._rules = [rule for kind, spec in patterns.items() if kind in types for rule in _rules(kind, spec)]
        self._names = [_name_rule(r) for r in load_yaml("pii/names.yaml").values()] if "name" in types else []

    def redact(self, text: str, lang: str | None = None) -> tuple[str, Counter[str]]:
        """``text`` (in ``lang``: it decides which domestic formats are looked for) with PII replaced."""
        counts: Counter[str] = Counter()
        for rule in self._rules:
            if rule.applies(lang):
                text = _substitute(rule, text, counts)
        for rule in self._names:
            if rule.applies(lang):
                text, n = rule.pattern.subn(_replace_name, text)
                counts["name"] += n
        return text, +counts


def _substitute(rule: _Rule, text: str, counts: Counter[str]) -> str:
    """Match on a copy with Latin digits (same length, so the spans carry over) and replace in the original:
    the patterns stay simple and Persian or Arabic-Indic digits are caught all the same."""
    pieces, end = [], 0
    for match in rule.pattern.finditer(fold(text, DIGITS)):
        if rule.check and not rule.check(match.group()):
            continue
        pieces += [text[end : match.start()], rule.placeholder]
        end = match.end()
        counts[rule.kind] += 1
    return "".join(pieces) + text[end:] if pieces else text
