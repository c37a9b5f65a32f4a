"""Bytes → text for HTML pages whose declared encoding is missing or wrong (many Persian sites: windows-1256)."""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import yaml

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
#: Broken bytes in otherwise good text (a few per page) are replaced; more than this share means "wrong encoding".
MAX_BROKEN_SHARE = 0.01


@functools.cache
def _legacy_table() -> dict[str, list[str]]:
    return yaml.safe_load((Path(__file__).parent / "legacy_encodings.yaml").read_text(encoding="utf-8"))


def legacy_encodings(languages: list[str]) -> list[str]:
    """Legacy encodings for these languages (legacy_encodings.yaml), in order, without repeats."""
    return list(dict.fromkeys(e for lang in languages for e in _legacy_table().get(lang, [])))


class UndecodableError(ValueError):
    """No encoding turns the body into text."""


@dataclass
class Decoded:
    text: str
    encoding: str
    note: str | None = None  # why the declared encoding was not used as is


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The HTTP header's charset, else the first <meta charset> in the first 4 KB."""
    if content_type and (match := _HEADER_CHARSET.search(content_type)):
        return match.group(1)
    if match := _META_CHARSET.search(body[:4096]):
        return match.group(1).decode("ascii", "replace")
    return None


def _mostly_letters(text: str, share: float = 0.8) -> bool:
    """Whether the non-ASCII characters are mostly letters (ZWNJ counts): a wrong codec yields symbols."""
    other = [c for c in text if ord(c) > 127]
    return bool(other) and sum(c.isalpha() or c == "\u200c" for c in other) >= share * len(other)


def decode_html(body: bytes, content_type: str | None, languages: list[str] | None = None) -> Decoded:
    """Declared encoding, else UTF-8, else a few broken bytes replaced, else detection (the site's languages'
    legacy encodings first: detection among all encodings often takes short Persian text for Cyrillic)."""
    declared_name = declared_encoding(body, content_type)
    declared = _codec(declared_name)
    for candidate in (declared, "utf-8") if declared != "utf-8" else ("utf-8",):
        if candidate is None:
            continue
        try:
            return Decoded(body.decode(candidate), candidate, None if candidate == declared else
                           f"declared {declared_name or 'nothing'}, decoded as {candidate}")
        except UnicodeDecodeError:
            pass
    lenient = declared or "utf-8"
    text = body.decode(lenient, errors="replace")
    broken = text.count("\ufffd")
    if broken <= MAX_BROKEN_SHARE * max(len(text), 1):
        return Decoded(text, lenient, f"{broken} undecodable bytes replaced ({lenient})")
    for legacy in legacy_encodings(languages or []):
        try:
            text = body.decode(legacy)
        except UnicodeDecodeError:
            continue
        if _mostly_letters(text):
            return Decoded(text, legacy, f"declared {declared_name or 'nothing'}, read as {legacy} (site language)")
    guess = charset_normalizer.from_bytes(body).best()
    if guess is not None and guess.encoding:
        return Decoded(str(guess), guess.encoding, f"declared {declared_name or 'nothing'}, detected {guess.encoding}")
    raise UndecodableError(f"not text in {declared_name or 'any detected encoding'} ({broken} undecodable bytes as {lenient})")
