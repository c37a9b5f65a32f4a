"""What a safety pack says about red flags: per category, rules (regular expressions over folded text) and
the guidance to show; per language, the context masks (what is negated or over) and the emergency numbers.

A rule is a list of expressions that must ALL be found; a category is raised when ANY of its rules is.
Guidance is a template: ``{emergency}`` is the number to call where the user is (``data/countries.yaml``: the
recipe's ``chat.country``, else the pack's own ``country``, else ``default``), and a pack's ``crisis_line``
sentence (with ``{crisis}``) is added to the suicidal guidance where that country has a crisis line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from medadapt.errors import MedadaptError
from medadapt.text.fold import LEXICON_PATTERN, fold
from medadapt.text.keywords import Lexicon

DATA = Path(__file__).with_name("data")
#: the category whose guidance gets the country's crisis line
CRISIS_CATEGORY = "suicidal"


class SafetyError(MedadaptError):
    """A safety pack, country or evaluation set that cannot be used."""


@dataclass
class RedFlagCategory:
    """``requires``: the category stands only where one of these is found too (infant fever needs a young
    infant, whatever step raised it); ``unless``: it falls where one of these is found (a nosebleed is not
    bleeding in pregnancy)."""

    name: str
    guidance_template: str
    rules: list[list[Lexicon]]
    sources: list[list[str]]  # the expressions as written, to name the rule that fired
    requires: tuple[re.Pattern[str], ...] = ()
    unless: tuple[re.Pattern[str], ...] = ()

    def match(self, folded: str) -> str | None:
        """The first rule with every one of its expressions in ``folded`` (the ``LEXICON`` fold of a text), as
        the text it found (``"chest + pain + breath"``), or None."""
        for rule in self.rules:
            found = [next(p.finditer(folded), None) for p in rule]
            if all(found):
                return " + ".join(m.group() for m in found if m)
        return None


@dataclass(frozen=True)
class Context:
    """Spans of a message that do not describe something happening now: ``negation`` expressions are blanked
    where found ("no fever"); a clause (between punctuation) with a ``past`` expression and no ``current``
    one is blanked whole ("had chest pain last year, fine now"), and so is one with a ``general`` expression
    (a question about medicine, not a person: "the difference between a seizure and fainting", "how can my
    father prevent a stroke"). Where the message says it is over (``resolved``: "fine since", 今は元気), a
    past clause is blanked even with a ``current`` word in it: "now" there says what is well, not what is
    back ("had a seizure years ago but I'm fine now")."""

    negation: tuple[re.Pattern[str], ...] = ()
    past: tuple[re.Pattern[str], ...] = ()
    current: tuple[re.Pattern[str], ...] = ()
    general: tuple[re.Pattern[str], ...] = ()
    resolved: tuple[re.Pattern[str], ...] = ()

    def mask(self, folded: str) -> tuple[str, list[str]]:
        """``folded`` with the spans blanked, and the spans (the explanation of what was set aside)."""
        dropped: list[str] = []
        clauses = []
        over = any(p.search(folded) for p in self.resolved)
        for clause in _CLAUSES.split(folded):
            past = any(p.search(clause) for p in self.past) and (
                over or not any(p.search(clause) for p in self.current))
            if past or any(p.search(clause) for p in self.general):
                dropped.append(clause.strip())
                clauses.append(" ")
            else:
                clauses.append(clause)
        text = "".join(clauses)
        for pattern in self.negation:
            dropped.extend(m.group().strip() for m in pattern.finditer(text))
            text = pattern.sub(" ", text)
        return text, [d for d in dropped if d]


# clause edges: sentence and comma punctuation of every script the packs write; kept as their own pieces
_CLAUSES = re.compile(r"([.!?;,،؛。！？；，、\n]+)")


def parse_red_flags(raw: dict[str, Any], path: Path) -> dict[str, RedFlagCategory]:
    flags = {}
    for name, spec in (raw.get("red_flags") or {}).items():
        try:
            sources = [[str(expr) for expr in rule] for rule in spec["rules"]]
            rules = [[Lexicon([fold(expr, LEXICON_PATTERN)], regex=True, whole_words=False) for expr in rule]
                     for rule in sources]
            requires, unless = (tuple(re.compile(fold(e, LEXICON_PATTERN)) for e in spec.get(key) or ())
                                for key in ("requires", "unless"))
            flags[name] = RedFlagCategory(name, one_line(spec["guidance"]), rules, sources, requires, unless)
        except (re.error, KeyError, TypeError, AttributeError) as exc:
            raise SafetyError(f"bad rule: {exc}", file=str(path), field=f"red_flags.{name}") from None
    return flags


def parse_context(raw: dict[str, Any], path: Path) -> Context:
    spec = raw.get("context") or {}
    try:
        compiled = {key: tuple(re.compile(fold(expr, LEXICON_PATTERN)) for expr in spec.get(key) or ())
                    for key in ("negation", "past", "current", "general", "resolved")}
    except (re.error, TypeError, AttributeError) as exc:
        raise SafetyError(f"bad context expression: {exc}", file=str(path), field="context") from None
    return Context(**compiled)


@cache
def countries() -> dict[str, dict[str, str]]:
    """ISO 3166-1 alpha-2 code (and ``default``) → its numbers: ``emergency``, and ``crisis`` where known."""
    return yaml.safe_load((DATA / "countries.yaml").read_text(encoding="utf-8"))["countries"]


def numbers(country: str | None) -> dict[str, str]:
    """The numbers for ``country`` (None: the default ones); an unknown code is an error, not a guess."""
    table = countries()
    if country is None:
        return table["default"]
    code = country.upper()
    if code not in table or code == "DEFAULT":
        raise SafetyError(f"no emergency numbers for country {country!r} (known: "
                          f"{', '.join(sorted(c for c in table if c != 'default'))})", field="chat.country")
    return table[code]


def guidance(category: RedFlagCategory, crisis_line: str, country_numbers: dict[str, str]) -> str:
    """The category's guidance with the country's numbers filled in."""
    text = category.guidance_template.format(emergency=country_numbers["emergency"])
    if category.name == CRISIS_CATEGORY and crisis_line and country_numbers.get("crisis"):
        text += " " + crisis_line.format(crisis=country_numbers["crisis"])
    return text


def one_line(text: str) -> str:
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
