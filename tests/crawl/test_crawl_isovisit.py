"""The shipped isovisit adapter through the real crawler, on loopback: a small site in isovisit's question-page
layout (tests/crawl/isovisit/, pages written for this test), list pages → question pages → related questions.
Each record has the question, the first doctor's answer, every answer, and the answering doctor."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from crawl_helpers import run_crawl

from medadapt.crawl.adapters import ADAPTER_DIR, adapter_digest, load_adapter
from medadapt.errors import RecipeError
from medadapt.records.jsonl import iter_jsonl

PAGES = Path(__file__).parent / "isovisit"
QUESTIONS = {  # number: (slug, title, question, [(doctor id, doctor, answer)], related numbers)
    101: ("sore-throat", "گلودرد و تب بعد از سرماخوردگی",
          "سه روز است گلودرد و تب خفیف دارم. آیا باید آنتی‌بیوتیک مصرف کنم؟",
          [(7, "دکتر مریم احمدی", "بیشتر گلودردها ویروسی‌اند و آنتی‌بیوتیک لازم ندارند. استراحت کنید و مایعات بنوشید؛ "
                                 "اگر تب بیش از سه روز ماند، معاینه شوید.")], [103, 102]),
    102: ("back-pain", "کمردرد هنگام نشستن", "هنگام نشستن طولانی کمرم درد می‌گیرد. چه ورزشی مناسب است؟",
          [(9, "دکتر علی رضایی", "هر ساعت چند دقیقه راه بروید و حرکات کششی ملایم انجام دهید. اگر درد به پا "
                                "کشیده شد، به پزشک مراجعه کنید.")], [101]),
    103: ("iron-deficiency", "کم‌خونی فقر آهن در بارداری", "در ماه چهارم بارداری هستم و آهنم پایین است. چه کنم؟",
          [(7, "دکتر مریم احمدی", "مکمل آهن را طبق دستور پزشک زنان مصرف کنید و آن را با چای نخورید."),
           (12, "دکتر سارا کریمی", "منابع غذایی آهن مانند گوشت قرمز و عدس را بیشتر کنید و یک ماه بعد آزمایش "
                                  "را تکرار کنید.")], [101]),
}


def _path(number: int) -> str:
    return f"/questions/{number}/{QUESTIONS[number][0]}"


def _site() -> dict[str, bytes]:
    template, answer, listing = ((PAGES / f"{name}.html").read_text(encoding="utf-8")
                                 for name in ("question", "answer", "list"))
    routes = {"/robots.txt": b"User-agent: *\nDisallow: /doctor/\n"}
    for number, (_, title, question, answers, related) in QUESTIONS.items():
        routes[_path(number)] = template.format(
            title=title, question=question, date="۱۴۰۲/۰۶/۱۲", path=_path(number),
            answers="".join(answer.format(doctor_id=i, doctor=d, answer=a, date="۱۴۰۲/۰۶/۱۳") for i, d, a in answers),
            related="".join(f'<a href="{_path(n)}">{QUESTIONS[n][1]}</a>\n' for n in related)).encode()
    for page in range(1, 31):  # only 101 is on a list page: 102 and 103 are found through related links
        items = f'<a class="question-link" href="{_path(101)}">{QUESTIONS[101][1]}</a>' if page == 1 else ""
        routes[f"/questions?page={page}"] = listing.format(items=items, next=page + 1).encode()
    return routes


@contextmanager
def isovisit_like_site() -> Iterator[tuple[str, list[str]]]:
    """The pages on 127.0.0.1; yields the base URL and the log of requested paths."""
    routes, log = _site(), []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 — the http.server naming
            log.append(self.path)
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def test_isovisit_adapter_crawls_question_answers_and_doctor(tmp_path):
    with isovisit_like_site() as (base, log):
        recipe = {"name": "iso", "languages": ["fa"], "model": "smollm2-135m",
                  "crawl": {"sites": [{"adapter": "isovisit", "base_url": base}], "per_host_delay": 0}}
        path = tmp_path / "recipe.yaml"
        path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
        result = run_crawl(path, tmp_path / "runs")
    records = {r["url"].split("/")[4]: r for r in iter_jsonl(result.run.stage_dir("crawl") / "qa.jsonl")}
    assert set(records) == {"101", "102", "103"}  # 102 and 103 only through the related-questions links
    for number, (_, title, question, answers, _) in QUESTIONS.items():
        record = records[str(number)]
        assert (record["source"], record["lang"], record["title"]) == ("isovisit", "fa", title)
        assert record["question"] == question and record["answer"] == answers[0][2]
        assert record["doctor"] == answers[0][1]
    assert records["103"]["answers"] == [a for _, _, a in QUESTIONS[103][3]]
    assert "answers" not in records["101"]
    assert "\u200c" in records["101"]["question"]  # ZWNJ kept («آنتی‌بیوتیک»)
    assert not [p for p in log if "share=" in p or p.startswith("/doctor/")]  # skip rule; robots.txt


def test_extra_fields_leave_the_digest_of_adapters_without_them_unchanged(tmp_path):
    """Stored crawls are re-extracted when their adapter's digest changes: the new key must not trigger that
    for adapters that do not use it (9ee5dcd664171e8c: drhast's digest before `fields` existed)."""
    raw = yaml.safe_load((ADAPTER_DIR / "drhast.yaml").read_text(encoding="utf-8"))
    assert adapter_digest(load_adapter(ADAPTER_DIR / "drhast.yaml")) == "9ee5dcd664171e8c"
    raw["qa"]["fields"] = {"doctor": ".doctor"}
    (tmp_path / "with-doctor.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert adapter_digest(load_adapter(tmp_path / "with-doctor.yaml")) != "9ee5dcd664171e8c"
    raw["qa"]["fields"] = {"url": ".doctor"}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RecipeError, match="qa.fields: .*url: the crawler writes these itself"):
        load_adapter(tmp_path / "bad.yaml")
