"""Reading a fetched page: its kind, its records (Q&A pairs or an article) and the links worth following."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from typing import Any

import trafilatura
from lxml import etree
from selectolax.lexbor import LexborHTMLParser, LexborNode

from medadapt.crawl.adapters import SiteAdapter
from medadapt.crawl.urls import normalize, path_and_query, record_id

_BLOCKS = "p, br, li, div, tr, h1, h2, h3, h4, h5, h6, blockquote, pre, section, article"
ZWNJ = "\u200c"
#: trafilatura drops non-printable characters, ZWNJ (U+200C) among them, which breaks Persian words
#: («می‌تواند» → «میتواند»). It is swapped for a printable stand-in that the page does not contain.
_ZWNJ_STAND_INS = ("\u2af7", "\u2af8", "\U0001f700", "\U0001f701")


@dataclass
class PageResult:
    kind: str
    records: list[dict[str, Any]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "field: why" — each becomes a failure row
    dropped: list[str] = field(default_factory=list)  # pairs an adapter's drop_if rule removed, with why


def node_text(node: LexborNode) -> str:
    """Text with line breaks at block boundaries, spaces collapsed within lines (ZWNJ is not a space)."""
    for block in node.css(_BLOCKS):
        block.insert_after("\n")
    raw = node.attributes.get("content") or "" if node.tag == "meta" else node.text(deep=True)
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)


def _first_text(tree: LexborHTMLParser, selector: str | None) -> str | None:
    if not selector:
        return None
    node = tree.css_first(selector)
    return (node_text(node) or None) if node is not None else None


def page_language(adapter: SiteAdapter, tree: LexborHTMLParser) -> tuple[str | None, str | None]:
    """(lang, problem): the site's one language, or the page's <html lang> among the site's languages."""
    if len(adapter.lang) == 1:
        return adapter.lang[0], None
    root = tree.css_first("html")
    declared = (root.attributes.get("lang") or "") if root is not None else ""
    primary = declared.split("-")[0].strip().lower()
    if primary in adapter.lang:
        return primary, None
    return None, f"lang: page declares {declared or 'no <html lang>'}, site {adapter.name} has {', '.join(adapter.lang)}"


def _links(adapter: SiteAdapter, tree: LexborHTMLParser, url: str, selector: str) -> list[str]:
    found: list[str] = []
    for anchor in tree.css(selector):
        href = anchor.attributes.get("href")
        if not href:
            continue
        link = normalize(href, url)
        if link and adapter.wants(path_and_query(link)):
            found.append(link)
    return list(dict.fromkeys(found))


def extract_qa(adapter: SiteAdapter, tree: LexborHTMLParser, url: str, lang: str, base: dict[str, Any]) -> PageResult:
    spec = adapter.qa
    result = PageResult("qa")
    if spec is None:
        result.problems.append(f"qa: adapter {adapter.name} has page rules of kind qa but no qa selectors")
        return result
    questions = [node_text(n) for n in tree.css(spec.question)]
    answers = [node_text(n) for n in tree.css(spec.answer)]
    title = _first_text(tree, spec.title)
    extra = {name: text for name, selector in spec.fields.items() if (text := _first_text(tree, selector))}
    if spec.pairs == "zip":
        if len(questions) != len(answers):
            result.problems.append(f"qa: {len(questions)} questions ({spec.question}) but {len(answers)} answers ({spec.answer})")
        pairs = [(i, q, [a]) for i, (q, a) in enumerate(zip(questions, answers, strict=False))]
    else:
        pairs = [(None, questions[0] if questions else "", [a for a in answers if a])]
    for index, question, page_answers in pairs:
        if not question:
            result.problems.append(f"question: selector {spec.question!r} matched no text")
            continue
        if not page_answers or not page_answers[0]:
            result.problems.append(f"answer: selector {spec.answer!r} matched no text")
            continue
        if question in spec.drop_if or page_answers[0] in spec.drop_if:
            placeholder = question if question in spec.drop_if else page_answers[0]
            result.dropped.append(f"pair {index if index is not None else 0}: placeholder {placeholder!r} (drop_if)")
            continue
        record = {"id": record_id(adapter.name, url, index), "source": adapter.name, "url": url, "lang": lang,
                  "question": question, "answer": page_answers[0], **base}
        if spec.all_answers and len(page_answers) > 1:
            record["answers"] = page_answers
        if title:
            record["title"] = title
        record.update(extra)
        result.records.append(record)
    return result


def _stand_in(html: str) -> str:
    return next(c for c in _ZWNJ_STAND_INS if c not in html)


def extract_article(adapter: SiteAdapter, html: str, url: str, lang: str, base: dict[str, Any]) -> PageResult:
    """trafilatura for what the adapter gives no selector for; ZWNJ survives through a stand-in character."""
    result = PageResult("article")
    spec = adapter.article
    stand_in = _stand_in(html)
    document = trafilatura.bare_extraction(html.replace(ZWNJ, stand_in), url=url, with_metadata=True)
    found = document.as_dict() if document is not None else {}
    restored = {k: v.replace(stand_in, ZWNJ) for k, v in found.items() if isinstance(v, str)}
    tree = LexborHTMLParser(html)
    title = _first_text(tree, spec.title) or restored.get("title")
    text = _first_text(tree, spec.text) or restored.get("text") or ""
    if title and text.startswith(title + "\n"):
        text = text[len(title) + 1:]  # trafilatura keeps the <h1> as the first line
    if not title:
        result.problems.append("title: nothing extracted (no selector, trafilatura found none)")
    if not text.strip():
        result.problems.append("text: nothing extracted")
    if result.problems:
        return result
    record = {"id": record_id(adapter.name, url), "source": adapter.name, "url": url, "lang": lang,
              "title": title, "text": text.strip(), **base}
    for key in ("date", "author"):
        value = _first_text(tree, getattr(spec, key)) or restored.get(key)
        if value:
            record[key] = value
    result.records.append(record)
    return result


def extract_page(adapter: SiteAdapter, url: str, html: str, base: dict[str, Any]) -> PageResult:
    """Kind by the adapter's page rules; records for qa/article pages; links for every page."""
    kind = adapter.kind_of(path_and_query(url), html)
    tree = LexborHTMLParser(html)
    related = adapter.qa.related if kind == "qa" and adapter.qa else None
    links = _links(adapter, tree, url, related or "a[href]")
    if kind == "list":
        return PageResult("list", links=links)
    lang, problem = page_language(adapter, tree)
    if lang is None:
        return PageResult(kind, links=links, problems=[problem or "lang: unknown"])
    if kind == "qa":
        result = extract_qa(adapter, tree, url, lang, base)
    else:
        result = extract_article(adapter, html, url, lang, base)
    result.links = links
    return result


def sitemap_links(adapter: SiteAdapter, url: str, body: bytes) -> tuple[list[str], list[str]]:
    """(page links, nested sitemap links) from a sitemap or sitemap index; lxml recovers from broken XML."""
    if body[:2] == b"\x1f\x8b":  # sitemap.xml.gz served as a file, not with Content-Encoding
        body = gzip.decompress(body)
    if not body.strip():
        return [], []
    root = etree.fromstring(body, parser=etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    if root is None:
        return [], []
    locs = [normalize(loc.text or "", url) for loc in root.iter("{*}loc")]
    locs = [loc for loc in locs if loc]
    if etree.QName(root).localname == "sitemapindex":
        return [], locs
    return [loc for loc in locs if adapter.wants(path_and_query(loc))], []
