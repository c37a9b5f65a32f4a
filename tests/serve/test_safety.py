"""The medical safety layer: red flags per category and language on the shipped development set (the target
figures), the output-language guard, the disclaimer, and intervention records. The detector's own steps
(negation, past, quantities, countries) are tested in tests/serve/redflags/."""

from __future__ import annotations

import json

import pytest
import yaml
from serve_helpers import FakeGenerator

from medadapt.llm.streaming import GenParams
from medadapt.serve.redflags.evaluate import evaluate
from medadapt.serve.redflags.rules import DATA, SafetyError
from medadapt.serve.redflags.semantic import read_jsonl
from medadapt.serve.safety import PACKS_DIR, SafetyLayer, load_packs
from medadapt.text.fold import LEXICON, fold

LANGUAGES = ["en", "fa", "ar", "zh", "ja", "ko", "fr", "es"]
CATEGORIES = ["cardiac_chest_pain", "stroke", "severe_bleeding", "suicidal", "poisoning_overdose", "infant_fever",
              "anaphylaxis", "pregnancy_bleeding", "breathing_difficulty", "sudden_headache", "seizure", "unconscious"]
DEV = read_jsonl(DATA / "dev.jsonl")


@pytest.fixture(scope="module")
def layer() -> SafetyLayer:
    return SafetyLayer()


def test_every_pack_has_every_category_and_the_dev_set_covers_them():
    packs = load_packs()
    assert set(packs) >= set(LANGUAGES)
    for lang in LANGUAGES:
        assert set(packs[lang].red_flags) == set(CATEGORIES), lang
        rows = [r for r in DEV if r["lang"] == lang]
        assert sum(r["category"] is not None for r in rows) >= 30 and sum(r["category"] is None for r in rows) >= 30
        for category in CATEGORIES:
            assert sum(r["category"] == category for r in rows) >= 2, (lang, category)


def test_the_dev_set_meets_the_target_in_every_language(layer):
    report = evaluate(layer, DATA / "dev.jsonl")
    for lang in LANGUAGES:
        tally = report.by_language[lang]
        assert tally.recall >= 0.98, (lang, [m for m in report.misses if m["lang"] == lang])
        assert tally.false_alarm_rate <= 0.03, (lang, [a for a in report.false_alarms if a["lang"] == lang])


def test_the_dev_set_messages_are_in_their_language(layer):
    wrong = [(r["lang"], r["text"], layer.detect_language(r["text"])) for r in DEV
             if layer.detect_language(r["text"]) != r["lang"]]
    assert len(wrong) <= 0.02 * len(DEV), wrong


def test_normalisation_unifies_letter_forms_and_zwnj():
    assert fold("مي‌خواهم", LEXICON) == fold("می خواهم", LEXICON) == "می خواهم"
    assert fold("كيف حالكِ", LEXICON) == "کیف حالک"
    assert fold("۳۸ درجه", LEXICON) == "38 درجه"


def run(layer, generator, text, history=()):
    messages = [*history, {"role": "user", "content": text}]
    reply = layer.respond(generator, messages, GenParams(max_new_tokens=20))
    streamed = list(reply.pieces())
    assert "".join(streamed) == reply.text
    return reply


def test_red_flag_puts_guidance_first_whatever_the_model_says():
    layer = SafetyLayer(disclaimer="off")
    reply = run(layer, FakeGenerator("Drink some water and rest, it is probably nothing."),
                "I have crushing chest pain spreading to my left arm")
    pack = layer.packs["en"]
    assert reply.text.startswith(pack.emergency_header)
    assert reply.text.index(layer.guidance("cardiac_chest_pain", "en")) < reply.text.index("Drink some water")
    [event] = reply.interventions
    assert {k: event[k] for k in ("type", "categories", "lang", "matched_lexicons", "action")} == {
        "type": "red_flag", "categories": ["cardiac_chest_pain"], "lang": "en", "matched_lexicons": ["en"],
        "action": "guidance_first"}
    assert event["evidence"] == [{"category": "cardiac_chest_pain", "source": "rule", "found": "chest + crush + left arm"}]


def test_guidance_is_in_the_conversation_language():
    layer = SafetyLayer(disclaimer="off")
    reply = run(layer, FakeGenerator("لطفاً استراحت کنید و آب بنوشید."), "بچه‌ام وایتکس خورده است")
    assert layer.guidance("poisoning_overdose", "fa") in reply.text and "۱۱۵" in reply.text
    reply = run(layer, FakeGenerator("يرجى الراحة وشرب الماء."), "ابني شرب الكلور")
    assert layer.guidance("poisoning_overdose", "ar") in reply.text


def test_ordinary_answer_passes_untouched():
    layer = SafetyLayer(disclaimer="off")
    answer = "A normal body temperature is about 37 °C (98.6 °F)."
    reply = run(layer, FakeGenerator(answer), "What is a normal body temperature?")
    assert reply.text == answer and reply.interventions == [] and reply.lang == "en"


def test_language_guard_regenerates_an_injected_off_script_answer(tmp_path):
    log_file = tmp_path / "interventions.jsonl"
    layer = SafetyLayer(disclaimer="off", log_file=log_file)
    persian = "برای سردرد آب کافی بنوشید، استراحت کنید و اگر ادامه داشت به پزشک مراجعه کنید."
    chinese = "头痛时请多喝水，好好休息。如果持续不退，请去看医生。这很重要，请注意身体健康。"
    generator = FakeGenerator(chinese, persian)
    reply = run(layer, generator, "سردرد دارم، چه کنم؟")
    assert reply.text == persian  # nothing of the off-script attempt reached the user
    assert [e["action"] for e in reply.interventions] == ["regenerated"]
    assert reply.interventions[0]["type"] == "language_guard" and reply.interventions[0]["script_share"] < 0.2
    # the second attempt was told to answer in Persian
    assert len(generator.calls) == 2 and generator.calls[1][0]["role"] == "system"
    assert layer.packs["fa"].language_instruction in generator.calls[1][0]["content"]
    logged = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert logged[0]["action"] == "regenerated" and "time" in logged[0]


def test_language_guard_flags_when_the_retry_drifts_too():
    layer = SafetyLayer(disclaimer="off")
    english = "For a headache drink enough water, rest, and see a doctor if it does not go away soon."
    reply = run(layer, FakeGenerator(english), "سردرد دارم، چه کنم؟")
    assert [e["action"] for e in reply.interventions] == ["regenerated", "flagged"]
    assert reply.text.startswith(english) and reply.text.endswith(layer.packs["fa"].language_note)


def test_language_guard_catches_drift_after_the_checked_window():
    layer = SafetyLayer(disclaimer="off")
    answer = "Rest and drink water. " * 3 + "然后请您去医院看医生检查一下身体状况非常重要请注意。" * 4
    reply = run(layer, FakeGenerator(answer), "I have a mild headache, what should I do?")
    assert reply.interventions[-1]["action"] == "flagged" and reply.interventions[-1]["after_release"] is True


def test_a_few_latin_terms_in_a_persian_answer_are_fine():
    layer = SafetyLayer(disclaimer="off")
    answer = "برای تب می‌توانید استامینوفن (acetaminophen) مصرف کنید و مایعات زیاد بنوشید و استراحت کنید."
    reply = run(layer, FakeGenerator(answer), "سرما خورده‌ام و کمی تب دارم")
    assert reply.interventions == []


def test_disclaimer_on_the_first_reply_only_by_default():
    layer = SafetyLayer()
    first = run(layer, FakeGenerator("Drink water."), "How much water should I drink?")
    assert first.text.endswith(layer.disclaimer_text(layer.packs["en"]))
    history = [{"role": "user", "content": "How much water should I drink?"},
               {"role": "assistant", "content": first.text}]
    second = run(layer, FakeGenerator("About two litres."), "And in summer?", history)
    assert second.text == "About two litres."
    always = run(SafetyLayer(disclaimer="always"), FakeGenerator("x"), "And in summer?", history)
    assert always.text.endswith(layer.disclaimer_text(layer.packs["en"]))


def test_user_packs_add_and_replace_languages(tmp_path):
    shipped = yaml.safe_load((PACKS_DIR / "en.yaml").read_text())
    shipped["red_flags"]["sepsis"] = {"guidance": "Possible sepsis: call 112.", "rules": [["(mottled|blotchy) skin"]]}
    (tmp_path / "en.yaml").write_text(yaml.safe_dump(shipped), encoding="utf-8")
    layer = SafetyLayer(load_packs(tmp_path))
    assert "sepsis" in [f.category for f in layer.red_flags("he is confused with mottled skin")]
    (tmp_path / "en.yaml").write_text("lang: en\nscript: latin\n", encoding="utf-8")
    with pytest.raises(SafetyError, match="missing disclaimer"):
        load_packs(tmp_path)
    with pytest.raises(SafetyError, match="no <lang>.yaml"):
        load_packs(tmp_path / "empty")


def test_a_short_follow_up_keeps_the_conversation_language():
    layer = SafetyLayer(disclaimer="off")
    history = [{"role": "user", "content": "سردرد دارم، چه کنم؟"}, {"role": "assistant", "content": "استراحت کنید."}]
    reply = run(layer, FakeGenerator("آب کافی بنوشید و استراحت کنید."), "ok?", history)
    assert reply.lang == "fa" and reply.interventions == []
