"""URL normalisation, decoding, Retry-After, robots rules via Protego, WARC cut back to the committed end."""

from __future__ import annotations

from protego import Protego

from medadapt.crawl.decoding import decode_html
from medadapt.crawl.fetch import retry_after_seconds
from medadapt.crawl.state import CrawlState, NewLink, Outcome
from medadapt.crawl.urls import normalize, record_id
from medadapt.crawl.warc import WarcStore

PERSIAN_1256 = "پزشک گفت اين دارو مي‌تواند كمك كند".replace("ی", "ي")


def test_normalize_one_page_one_url():
    same = ["HTTP://Example.COM:80/a/../q/5?b=2&a=1#frag", "http://example.com/q/5?a=1&b=2", "/q/./5?a=1&b=2"]
    assert {normalize(u, "http://example.com/x/") for u in same} == {"http://example.com/q/5?a=1&b=2"}
    assert normalize("mailto:a@b.c") is None and normalize("javascript:void(0)", "http://a.b/") is None
    assert record_id("s", "http://127.0.0.1:1/q/5") == record_id("s", "http://127.0.0.1:2/q/5")


def test_decoding_windows_1256_declared_undeclared_and_broken_utf8():
    page = f"<html><body><p>{PERSIAN_1256 * 3}</p></body></html>".encode("cp1256")
    assert PERSIAN_1256 in decode_html(page, "text/html; charset=windows-1256").text
    undeclared = decode_html(page, "text/html", ["fa"])
    assert PERSIAN_1256 in undeclared.text and undeclared.encoding == "windows-1256" and undeclared.note
    broken = decode_html(("<p>" + "سلام دنیا " * 40 + "</p>").encode() + b"\xff\xfe", "text/html; charset=utf-8")
    assert "سلام دنیا" in broken.text and "replaced" in broken.note


def test_retry_after_seconds_and_http_date():
    assert retry_after_seconds("3") == 3.0
    assert 0 <= retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") < 1  # in the past: no wait
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_protego_longest_match_and_wildcards():
    rules = Protego.parse("User-agent: *\nDisallow: /*?print=\nDisallow: /admin/\nAllow: /admin/help\nCrawl-delay: 2\n")
    assert not rules.can_fetch("http://h/q/5?print=1", "medadapt")
    assert rules.can_fetch("http://h/q/5", "medadapt") and rules.can_fetch("http://h/admin/help", "medadapt")
    assert not rules.can_fetch("http://h/admin/stats", "medadapt") and rules.crawl_delay("medadapt") == 2


def test_half_written_warc_record_is_cut_back_on_resume(tmp_path):
    state = CrawlState(tmp_path / "frontier.sqlite")
    state.add([NewLink("http://h/a", "s", "page", 0, None, "start"), NewLink("http://h/b", "s", "page", 0, None, "start")])
    warc = WarcStore(tmp_path / "warc", state.committed_warc_ends())
    pointer = warc.append(WarcStore.serialize("http://h/a", 200, "OK", [("Content-Type", "text/html")], b"<p>a</p>"))
    state.commit(Outcome("http://h/a", "done", "t", http_status=200, warc=pointer), "s")
    warc.append(WarcStore.serialize("http://h/b", 200, "OK", [], b"<p>b</p>" * 1000))  # never committed
    warc.close()
    resumed = WarcStore(tmp_path / "warc", state.committed_warc_ends())
    assert (tmp_path / "warc" / pointer[0]).stat().st_size == pointer[1] + pointer[2]
    assert resumed.read(*pointer[:2]).body == b"<p>a</p>"
    assert resumed.append(b"x")[0] != pointer[0]  # a new session writes a new file
    assert [p.url for p in state.pending()] == ["http://h/b"]
