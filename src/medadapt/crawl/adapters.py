"""Site adapters: what to fetch on a site and how to read its pages, as YAML data (no code per site)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin

import yaml
from pydantic import Field, ValidationError, field_validator

from medadapt.errors import RecipeError
from medadapt.strict import StrictModel

ADAPTER_DIR = Path(__file__).parent / "adapters"
#: what every Q&A record gets from the crawler itself; an adapter's extra ``fields`` may not reuse a name
RESERVED_FIELDS = {"id", "source", "url", "lang", "question", "answer", "answers", "title", "fetched_at",
                   "content_hash", "http_status"}


class PageRule(StrictModel):
    """Pages whose path matches ``match`` (and whose HTML contains ``contains``, if set) are of ``kind``."""

    match: str
    kind: Literal["qa", "article", "list"]
    contains: str | None = None


class QASelectors(StrictModel):
    """CSS selectors for a Q&A page. ``pairs: zip`` reads many Q&A on one page (question i ↔ answer i)."""

    question: str
    answer: str
    all_answers: bool = Field(False, description="Keep every answer in `answers` (the first is `answer`).")
    pairs: Literal["page", "zip"] = "page"
    title: str | None = None
    related: str | None = Field(None, description="Links to follow from a Q&A page (the 'related questions' BFS).")
    drop_if: list[str] = Field(default_factory=list, description="Drop a pair whose question or answer is exactly this.")
    fields: dict[str, str] = Field(default_factory=dict, description="More record fields, name → CSS selector (the "
                                   "first match's text, left out when nothing matches), e.g. doctor.")

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, str]) -> dict[str, str]:
        taken = sorted(set(value) & RESERVED_FIELDS)
        if taken:
            raise ValueError(f"{', '.join(taken)}: the crawler writes these itself; name the field differently")
        bad = [name for name in value if not re.fullmatch(r"[a-z][a-z0-9_]*", name)]
        if bad:
            raise ValueError(f"{', '.join(bad)}: field names are lower-case words (a-z, 0-9, _)")
        return value


class ArticleSelectors(StrictModel):
    """Optional CSS selectors; trafilatura extracts whatever is not given."""

    title: str | None = None
    text: str | None = None
    date: str | None = None
    author: str | None = None


class SiteAdapter(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    lang: list[str] = Field(min_length=1, description="The site's language(s); with several, <html lang> decides.")
    base_url: str
    start_urls: list[str] = Field(default_factory=list, description="Paths or URLs; {n} runs over page_numbers.")
    page_numbers: tuple[int, int] | None = None
    sitemaps: list[str] = Field(default_factory=list)
    robots_sitemaps: bool = Field(False, description="Also read the sitemaps that the site's robots.txt lists.")
    follow: list[str] = Field(default_factory=list, description="Regexes on path?query of links to enqueue.")
    skip: list[str] = Field(default_factory=list, description="Regexes on path?query of links never to enqueue.")
    pages: list[PageRule] = Field(default_factory=list, description="First match decides a page's kind; else list.")
    qa: QASelectors | None = None
    article: ArticleSelectors = Field(default_factory=ArticleSelectors)

    @field_validator("lang", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("follow", "skip")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            re.compile(pattern)
        return value

    def with_base_url(self, base_url: str | None) -> SiteAdapter:
        return self if not base_url else self.model_copy(update={"base_url": base_url.rstrip("/")})

    def absolute(self, path_or_url: str) -> str:
        return urljoin(self.base_url.rstrip("/") + "/", path_or_url)

    def start_pages(self) -> list[str]:
        urls: list[str] = []
        for template in self.start_urls:
            if "{n}" in template and self.page_numbers:
                first, last = self.page_numbers
                urls += [self.absolute(template.replace("{n}", str(n))) for n in range(first, last + 1)]
            else:
                urls.append(self.absolute(template))
        return urls

    def kind_of(self, path: str, html: str | None = None) -> str:
        for rule in self.pages:
            if re.search(rule.match, path) and (rule.contains is None or (html is not None and rule.contains in html)):
                return rule.kind
        return "list"

    def wants(self, path: str) -> bool:
        """Whether a discovered link (its path?query) is worth fetching."""
        if any(re.search(p, path) for p in self.skip):
            return False
        return any(re.search(p, path) for p in self.follow) or any(re.search(r.match, path) for r in self.pages)


def shipped_adapters() -> list[str]:
    return sorted(p.stem for p in ADAPTER_DIR.glob("*.yaml"))


def is_file_reference(reference: str) -> bool:
    """``my-site.yaml`` or ``adapters/site.yml`` name a user's file; a bare word names a shipped adapter."""
    return "/" in reference or reference.endswith((".yaml", ".yml"))


def adapter_file(reference: str, base_dir: Path | None = None) -> Path:
    """A shipped adapter's file (by name) or a user's YAML file (path, relative to the recipe)."""
    if not is_file_reference(reference):
        return ADAPTER_DIR / f"{reference}.yaml"
    path = Path(reference).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


def load_adapter(path: Path) -> SiteAdapter:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RecipeError(str(path), [f"cannot read adapter: {exc}"]) from None
    try:
        return SiteAdapter.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors()]
        raise RecipeError(str(path), problems) from None


def adapter_digest(adapter: SiteAdapter) -> str:
    """Changes when anything that affects extraction changes (re-extraction is then due)."""
    exclude: dict[str, object] = {"base_url": True, "description": True}
    if adapter.qa is not None and not adapter.qa.fields:
        exclude["qa"] = {"fields"}  # adapters without extra fields keep the digest they had before the key
    return hashlib.sha256(adapter.model_dump_json(exclude=exclude).encode()).hexdigest()[:16]
