"""The recipe's ``crawl:`` section."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from medadapt.crawl.adapters import is_file_reference, shipped_adapters
from medadapt.strict import StrictModel


class SiteRef(StrictModel):
    """One site to crawl: a shipped adapter's name or a YAML file, with optional overrides."""

    adapter: str = Field(description="A shipped adapter name (drhast, doctor-yab, …) or a YAML file (recipe-relative).")
    base_url: str | None = Field(None, description="Serve the adapter's paths from another address (a mirror, a test server).")
    max_pages: int | None = Field(None, gt=0, description="Override crawl.max_pages_per_site for this site.")

    @field_validator("adapter")
    @classmethod
    def _known_adapter(cls, value: str) -> str:
        if not is_file_reference(value) and value not in shipped_adapters():
            raise ValueError(f"unknown adapter {value!r} (shipped: {', '.join(shipped_adapters())}; or a YAML path)")
        return value


class CrawlSection(StrictModel):
    """Crawl sites into ``crawl/articles.jsonl`` and ``crawl/qa.jsonl``."""

    sites: list[SiteRef] = Field(default_factory=list, description="The sites to crawl, each by its adapter.")
    fixture_site: bool = Field(
        False, description="Start the bundled fixture website on a free 127.0.0.1 port for this stage and crawl it."
    )
    fixture_variant: str = Field("normal", pattern=r"^(normal|hostile)$", description="normal or hostile (tests).")
    user_agent: str = Field("medadapt-crawler/0.1 (research crawl)",
                            description="Sent with every request; put a contact address in it for real sites.")
    concurrency: int = Field(16, gt=0, description="Requests in flight at once, over all hosts.")
    per_host_concurrency: int = Field(2, gt=0, description="Requests in flight at once to one host.")
    per_host_delay: float = Field(1.0, ge=0.0, description="Seconds between request starts to one host.")
    obey_robots: bool = Field(True, description="Obey robots.txt rules and crawl-delay (RFC 9309, via Protego).")
    max_pages_per_site: int = Field(5000, gt=0, description="Pages fetched from one site at most (a site's max_pages overrides it).")
    max_depth: int = Field(10_000, ge=0, description="Links followed from a start URL (the related-questions BFS is deep).")
    allow_cross_host: bool = Field(False, description="Follow links to other hosts (normally a site stays on its host).")
    timeout: float = Field(20.0, gt=0, description="Seconds for connect and each read; twice this for a whole response.")
    retries: int = Field(3, ge=0, description="Extra attempts on 429, 5xx, timeouts and connection errors.")
    backoff: float = Field(1.0, ge=0.0, description="First retry waits about this many seconds, doubling, with jitter.")
    max_retry_after: float = Field(120.0, ge=0.0, description="A longer Retry-After is a failure, not a wait.")
    max_redirects: int = Field(5, ge=0, description="More redirects than this for one URL is a failure.")
    max_bytes: int = Field(5_000_000, gt=0, description="Bodies larger than this are cut off and recorded as failures.")

    @model_validator(mode="after")
    def _something_to_crawl(self) -> CrawlSection:
        if not self.sites and not self.fixture_site:
            raise ValueError("sites: name at least one site adapter (or set fixture_site: true)")
        return self
