"""Extraction with the shipped adapters, on small pages that mimic each site's markup."""

from __future__ import annotations

from medadapt.crawl.adapters import ADAPTER_DIR, load_adapter
from medadapt.crawl.pages import process_response

BASE = {"fetched_at": "2026-01-01T00:00:00+00:00", "content_hash": "sha256:0", "http_status": 200}


def _process(adapter_name: str, path: str, html: str):
    adapter = load_adapter(ADAPTER_DIR / f"{adapter_name}.yaml")
    return process_response(adapter, adapter.absolute(path), "page", 200, "text/html; charset=utf-8",
                            html.encode("utf-8"), BASE["fetched_at"])


def test_every_shipped_adapter_loads():
    names = {p.stem for p in ADAPTER_DIR.glob("*.yaml")}
    assert {"drhast", "doctor-yab", "niniban", "hidoctor", "nabz", "salammag"} <= names
    for name in names:
        assert load_adapter(ADAPTER_DIR / f"{name}.yaml").name == name


def test_drhast_question_first_answer_and_related_links():
    html = """<html lang="fa"><body><h2 class="main-question__body" itemprop="text">سردرد دارم، <b>چه</b> کنم؟</h2>
    <div class="answer"><span itemprop="text">استراحت کنید و <i>آب</i> بنوشید؛ می‌تواند کمک کند.</span></div>
    <div class="answer"><span itemprop="text">پاسخ دوم</span></div>
    <div class="related-questions"><a href="/q/123-سردرد">x</a><a href="/q/page-2">list</a><a href="https://other.example/q/9">off</a></div>
    <a href="/q/555">not related</a></body></html>"""
    result = _process("drhast", "/q/100-headache", html)
    assert result.page_kind == "qa" and not result.failures
    record = result.records[0]["record"]
    assert record["question"] == "سردرد دارم، چه کنم؟"
    assert record["answer"] == "استراحت کنید و آب بنوشید؛ می‌تواند کمک کند."  # first answer; ZWNJ kept
    assert record["source"] == "drhast" and record["lang"] == "fa" and record["id"].startswith("drhast-")
    links = [url for url, _, _ in result.links]
    assert links[0] == "https://www.drhast.com/q/123-%D8%B3%D8%B1%D8%AF%D8%B1%D8%AF"
    assert "https://www.drhast.com/q/555" not in links  # only the related block drives the BFS on Q&A pages
    assert {found_by for _, _, found_by in result.links} == {"related"}


def test_doctor_yab_zips_pairs_and_drops_tag_not_found():
    items = "".join(f'<div class="col-xs-12 faq-text">سوال {i}</div><p class="alert-warning2">{a}</p>'
                    for i, a in enumerate(["جواب اول", "Tag not found.", "جواب سوم"]))
    result = _process("doctor-yab", "/faq/?page=2", f"<html><body>{items}</body></html>")
    assert [r["record"]["answer"] for r in result.records] == ["جواب اول", "جواب سوم"]
    assert len({r["id"] for r in result.records}) == 2
    assert result.failures == [("dropped", "pair 1: placeholder 'Tag not found.' (drop_if)")]


def test_niniban_article_or_readers_question_by_marker():
    article = '<html><head><title>تغذیه</title></head><body><div id="echo_detail"><p>تغذیه کودک</p><p>شیر مادر بهترین است.</p></div></body></html>'
    result = _process("niniban", "/article/1", article)
    assert result.page_kind == "article" and result.records[0]["record"]["text"] == "تغذیه کودک\nشیر مادر بهترین است."
    qa = ('<html><body><div id="echo_detail"><p>سوال مخاطب نی‌نی‌بان</p><div class="question">نوزادم تب دارد</div>'
          '<div class="answer">به پزشک مراجعه کنید</div></div></body></html>')
    result = _process("niniban", "/article/2", qa)
    assert result.page_kind == "qa" and result.records[0]["record"]["question"] == "نوزادم تب دارد"


def test_trafilatura_article_keeps_zwnj_in_persian_text():
    paragraphs = "".join(f"<p>{p}</p>" for p in ["این دارو می‌تواند فشار خون را پایین بیاورد و باید با نظر پزشک مصرف شود."] * 4)
    html = (f'<html lang="fa"><head><title>فشار خون</title></head><body><nav>منو</nav><article><h1>فشار خون</h1>'
            f"{paragraphs}</article><footer>حق نشر</footer></body></html>")
    result = _process("hidoctor", "/blood-pressure", html)
    text = result.records[0]["record"]["text"]
    assert "می\u200cتواند" in text and "میتواند" not in text
    assert result.records[0]["record"]["title"] == "فشار خون"


def test_malformed_and_empty_pages_give_reasons_not_crashes():
    assert _process("drhast", "/q/1", "<html><body><h2 class='main-question__body' itemprop='text'>Q<span").failures
    result = _process("drhast", "/q/2", "")
    assert result.records == [] and any("question" in reason for _, reason in result.failures)
    assert _process("hidoctor", "/empty-article", "<html><body></body></html>").failures
