"""The fixture site end to end: the related-questions BFS, robots.txt, records as the demo data, --re-extract."""

from __future__ import annotations

import json
import socket
import sqlite3

import yaml
from crawl_helpers import run_crawl, write_recipe

from medadapt.crawl.adapters import ADAPTER_DIR
from medadapt.records.jsonl import iter_jsonl
from medadapt.resources import resource_path


def test_bfs_finds_questions_only_reachable_through_related_links(tmp_path, fixture_server):
    result = run_crawl(write_recipe(tmp_path, fixture_server.base), tmp_path / "runs")
    out = result.run.stage_dir("crawl")
    crawled = {r["url"].rsplit("/", 1)[1] for r in iter_jsonl(out / "qa.jsonl")}
    related_only = {str(n) for n in fixture_server.site.related_only}
    assert len(related_only) > 100
    assert len(related_only & crawled) / len(related_only) >= 0.99

    demo = {(r["question"], r["answer"]) for r in iter_jsonl(resource_path("demo/qa.jsonl"))}
    assert {(r["question"], r["answer"]) for r in iter_jsonl(out / "qa.jsonl")} == demo
    articles = list(iter_jsonl(out / "articles.jsonl"))
    assert len(articles) == 20 and all(a["source"] == "fixture-magazine" and a["date"].startswith("2024-03") for a in articles)
    assert {a["lang"] for a in articles} == {"en", "fa"}
    assert any("می\u200cتواند" in r["answer"] for r in iter_jsonl(out / "qa.jsonl"))

    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["sites"]["fixture-forum"]["qa_found_by"]["related"] >= 130


def test_robots_rules_are_obeyed_on_the_wire(tmp_path, fixture_server):
    run_crawl(write_recipe(tmp_path, fixture_server.base), tmp_path / "runs")
    paths = [path for path, _ in fixture_server.log]
    assert not [p for p in paths if "?print=" in p or p.startswith("/admin/stats")]  # wildcard and prefix rules
    assert "/admin/help" in paths  # Allow: longest match beats Disallow: /admin/
    assert paths.count("/robots.txt") == 1
    failures = list(iter_jsonl(tmp_path / "runs" / "crawltest" / "crawl" / "failures.jsonl"))
    refused = {f["url"].split("/", 3)[3] for f in failures if f["step"] == "robots"}
    assert "admin/stats" in refused and any(u.endswith("?print=1") for u in refused)


def test_re_extract_rebuilds_records_from_warc_without_fetching(tmp_path, fixture_server):
    recipe = write_recipe(tmp_path, fixture_server.base)
    result = run_crawl(recipe, tmp_path / "runs")
    out = result.run.stage_dir("crawl")
    before = sorted(json.dumps(r, sort_keys=True) for r in iter_jsonl(out / "qa.jsonl"))
    requests = len(fixture_server.log)
    run_crawl(recipe, tmp_path / "runs", re_extract=True)
    after = sorted(json.dumps(r, sort_keys=True) for r in iter_jsonl(out / "qa.jsonl"))
    assert after == before and len(after) == 150
    assert len(fixture_server.log) == requests


def test_changed_selectors_re_extract_stored_pages_without_fetching(tmp_path, fixture_server):
    adapter = yaml.safe_load((ADAPTER_DIR / "fixture-forum.yaml").read_text(encoding="utf-8"))
    (tmp_path / "forum.yaml").write_text(yaml.safe_dump(adapter, allow_unicode=True), encoding="utf-8")
    recipe = write_recipe(tmp_path, fixture_server.base)
    config = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    config["crawl"]["sites"] = [{"adapter": "forum.yaml", "base_url": fixture_server.base}]
    recipe.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = run_crawl(recipe, tmp_path / "runs").run.stage_dir("crawl")
    requests = len(fixture_server.log)

    adapter["qa"]["question"] = "h1.question-title"  # a fixed selector: the titles become the questions
    (tmp_path / "forum.yaml").write_text(yaml.safe_dump(adapter, allow_unicode=True), encoding="utf-8")
    run_crawl(recipe, tmp_path / "runs")
    titles = [r["question"] for r in iter_jsonl(out / "qa.jsonl")]
    assert len(titles) == 150 and all(t == r["title"] for t, r in zip(titles, iter_jsonl(out / "qa.jsonl"), strict=True))
    assert len(fixture_server.log) == requests  # nothing fetched again (robots.txt is cached in the state too)


def test_report_section_shows_the_per_site_table(tmp_path, fixture_server):
    from jinja2 import Environment, FileSystemLoader

    from medadapt.report.render import TEMPLATES

    out = run_crawl(write_recipe(tmp_path, fixture_server.base), tmp_path / "runs").run.stage_dir("crawl")
    stats = {"crawl": json.loads((out / "stats.json").read_text(encoding="utf-8"))}
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    markdown = env.get_template("sections/crawl.md.j2").render(stats=stats)
    assert "| fixture-forum | 154 | 0 | 151 | 0 |" in markdown and "Q&A 100%" in markdown
    assert "<td>fixture-magazine</td><td>20</td>" in env.get_template("sections/crawl.html.j2").render(stats=stats)


def test_fixture_site_option_serves_and_crawls_the_bundled_site_and_survives_a_new_port(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: demo\nlanguages: [en, fa]\nmodel: smollm2-135m\n"
                      "crawl:\n  fixture_site: true\n  per_host_delay: 0\n", encoding="utf-8")
    out = run_crawl(recipe, tmp_path / "runs").run.stage_dir("crawl")
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert (stats["qa"], stats["articles"], stats["failed"]) == (150, 20, 0)

    state = sqlite3.connect(tmp_path / "runs" / "demo" / "crawl-state" / "frontier.sqlite")
    port = int(state.execute("SELECT value FROM meta WHERE key='fixture_port'").fetchone()[0])
    state.close()
    with socket.socket() as squatter:  # last run's port is taken: the site moves, the known URLs move with it
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        run_crawl(recipe, tmp_path / "runs", re_extract=False, force=True)
    again = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert again["session"]["fetched"] == 0 and (again["qa"], again["articles"]) == (150, 20)
    assert all(f":{port}/" not in r["url"] for r in iter_jsonl(out / "qa.jsonl"))
