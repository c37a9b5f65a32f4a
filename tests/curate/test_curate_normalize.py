"""The normalize step: text fields rewritten by the text layer's normaliser, documents left empty removed."""

from __future__ import annotations

from curate_helpers import qa, step


def test_normalize_step_rewrites_text_fields_and_rejects_what_becomes_empty():
    normalize = step({"step": "normalize"})
    doc = qa("1", "سوال من دربارهٔ بيماري است؟", "جواب ۱۲", extra_field="kept")
    empty = qa("2", "سوال", "\u200f\u200b")
    result = normalize.apply([doc, empty])
    assert [d.id for d in result.kept] == ["1"]
    assert doc.record["question"] == "سوال من دربارهٔ بیماری است؟"
    assert doc.record["answer"] == "جواب 12"
    assert doc.record["extra_field"] == "kept"
    assert result.rejected[0].rule == "empty"
    assert result.counters["changed"] == 2
