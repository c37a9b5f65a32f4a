"""The safety layer beyond en/fa/ar: the default language a recipe gives, the language guard on Chinese
(Han), Japanese (kanji with kana) and Korean (Hangul), red flags in text without spaces, and each pack's
guidance in its own language with the emergency number of the recipe's country (else the language's own)."""

from __future__ import annotations

import pytest
import yaml
from serve_helpers import FakeGenerator

from medadapt.llm.streaming import GenParams
from medadapt.serve.redflags.rules import DATA, SafetyError
from medadapt.serve.redflags.semantic import read_jsonl
from medadapt.serve.safety import PACKS_DIR, SafetyLayer, default_language, load_packs
from medadapt.text.scripts import script_shares

DEV = read_jsonl(DATA / "dev.jsonl")
NEW = ["zh", "ja", "ko", "fr", "es"]
# the country each language's guidance is checked with, and the number it must name there
COUNTRIES = {"zh": (None, "120"), "ja": (None, "119"), "ko": (None, "119"), "fr": ("FR", "15"), "es": ("ES", "112")}
CHINESE = "头痛时请多喝水，好好休息。如果头痛持续不退，请及时去医院看医生，必要时做检查。"
JAPANESE = "頭痛が続く場合は医療機関を受診し、十分な水分補給と休養を心掛けてください。"
KOREAN = "두통이 계속되면 병원에 가 보시고, 물을 충분히 마시고 푹 쉬세요. 증상이 심해지면 바로 진료를 받으세요."
ENGLISH = "For a headache drink enough water, rest, and see a doctor if it does not go away soon."


def run(layer, generator, text, history=()):
    reply = layer.respond(generator, [*history, {"role": "user", "content": text}], GenParams(max_new_tokens=20))
    reply.collect()
    return reply


@pytest.fixture(scope="module")
def packs():
    return load_packs()


def test_default_language_is_the_first_recipe_language_with_a_pack(packs):
    assert default_language(["zh", "en"], packs) == "zh"
    assert default_language(["ru", "ko", "en"], packs) == "ko"  # no ru pack: the next recipe language's
    assert default_language(["ru"], packs) == "en"
    assert default_language([], packs) == "en"
    assert SafetyLayer(packs, languages=["ja", "en"]).default_lang == "ja"


def test_a_script_without_a_pack_is_never_judged_by_another_scripts_pack(packs):
    # the old failure: a [zh, en] recipe without a zh pack fell to the first pack, Arabic, and its Chinese
    # answers were regenerated "in Arabic"
    old = {lang: packs[lang] for lang in ("en", "fa", "ar")}
    layer = SafetyLayer(old, languages=["zh", "en"], disclaimer="off")
    assert layer.default_lang == "en"
    reply = run(layer, FakeGenerator(CHINESE), "我头痛，应该怎么办？")
    assert reply.lang is None and reply.text == CHINESE and reply.interventions == []
    # with the shipped packs, a script none of them writes (Cyrillic) is not guarded either
    reply = run(SafetyLayer(languages=["en"]), FakeGenerator("Пейте больше воды и отдыхайте."), "У меня болит голова")
    assert reply.lang is None and [e["type"] for e in reply.interventions] == ["disclaimer"]


def test_a_zh_en_recipe_keeps_chinese_answers():
    layer = SafetyLayer(languages=["zh", "en"], disclaimer="off")
    reply = run(layer, FakeGenerator(CHINESE), "我头痛，应该怎么办？")
    assert reply.lang == "zh" and reply.text == CHINESE and reply.interventions == []


def test_language_of_han_kana_hangul_and_latin_messages():
    layer = SafetyLayer()
    assert layer.detect_language("头痛发烧") == "zh"  # Han alone: Chinese first
    assert SafetyLayer(languages=["ja", "en"]).detect_language("頭痛発熱") == "ja"  # ... unless the recipe is ja
    assert SafetyLayer(languages=["zh"]).detect_language("頭が痛いです") == "ja"  # kana is never Chinese
    assert SafetyLayer(languages=["ja"]).detect_language("我头痛，怎么办") == "zh"  # Simplified-only forms
    assert layer.detect_language("머리가 아파요") == "ko"
    assert layer.detect_language("J'ai mal à la tête depuis hier") == "fr"
    assert layer.detect_language("Me duele la cabeza desde ayer") == "es"
    assert layer.detect_language("I have had a headache since yesterday") == "en"


def test_chinese_conversation_with_a_japanese_answer_is_off_script():
    layer = SafetyLayer(disclaimer="off")
    shares, _ = script_shares(JAPANESE)
    assert shares["han"] >= layer.packs["zh"].min_script_share  # Han-heavy: only the kana gives it away
    generator = FakeGenerator(JAPANESE, CHINESE)
    reply = run(layer, generator, "头痛一直不好，应该怎么办？")
    assert reply.text == CHINESE and [e["action"] for e in reply.interventions] == ["regenerated"]
    assert layer.packs["zh"].language_instruction in generator.calls[1][0]["content"]


def test_japanese_answer_with_kanji_and_kana_is_on_script_and_a_chinese_one_is_not():
    layer = SafetyLayer(disclaimer="off")
    reply = run(layer, FakeGenerator(JAPANESE), "頭痛が続いています。どうすればいいですか？")
    assert reply.lang == "ja" and reply.text == JAPANESE and reply.interventions == []
    reply = run(layer, FakeGenerator(CHINESE, JAPANESE), "頭痛が続いています。どうすればいいですか？")
    assert reply.text == JAPANESE and [e["action"] for e in reply.interventions] == ["regenerated"]


def test_korean_answer_in_hangul_passes_and_others_are_regenerated():
    layer = SafetyLayer(disclaimer="off")
    reply = run(layer, FakeGenerator(KOREAN), "두통이 계속돼요. 어떻게 해야 하나요?")
    assert reply.lang == "ko" and reply.text == KOREAN and reply.interventions == []
    for other in (CHINESE, ENGLISH):
        reply = run(layer, FakeGenerator(other, KOREAN), "두통이 계속돼요. 어떻게 해야 하나요?")
        assert reply.text == KOREAN and [e["action"] for e in reply.interventions] == ["regenerated"]


def test_latin_terms_in_a_chinese_answer_are_fine():
    layer = SafetyLayer(disclaimer="off")
    answer = "建议做CT和MRI检查，同时注意休息，多喝水。如果头痛持续，请及时就医。"
    assert run(layer, FakeGenerator(answer), "头痛很久了，要做什么检查？").interventions == []


def test_red_flags_in_text_without_spaces():
    layer = SafetyLayer()
    cases = {
        "昨天晚上开始我爸就说胸口很闷很痛，现在喘不上气来了，我们该怎么办？": "cardiac_chest_pain",
        "我媽突然說話不清楚，嘴也歪了": "stroke",  # Traditional Chinese
        "うちの子が、さっき漂白剤を飲んでしまったみたいです！": "poisoning_overdose",
        "ｵｰﾊﾞｰﾄﾞｰｽﾞしてしまいました": "poisoning_overdose",  # half-width katakana, folded by NFKC
        "생후３주된아기가열이나요": "infant_fever",  # no spaces, a full-width digit
    }
    for text, category in cases.items():
        assert category in [f.category for f in layer.red_flags(text)], text


@pytest.mark.parametrize("lang", NEW)
def test_guidance_is_in_the_conversation_language(lang):
    layer = SafetyLayer(disclaimer="off")
    pack = layer.packs[lang]
    message = next(r["text"] for r in DEV if r["lang"] == lang and r["category"] == "poisoning_overdose")
    answer = next(r["text"] for r in DEV if r["lang"] == lang and r["category"] is None)
    reply = run(layer, FakeGenerator(answer), message)
    assert reply.lang == lang and reply.text.startswith(pack.emergency_header)
    assert layer.guidance("poisoning_overdose", lang) in reply.text
    assert reply.interventions[0]["lang"] == lang


@pytest.mark.parametrize("lang", NEW)
def test_every_guidance_names_the_emergency_number_and_reads_as_one_line(packs, lang):
    country, number = COUNTRIES[lang]
    layer = SafetyLayer(packs, country=country)
    for category in packs[lang].red_flags:
        text = layer.guidance(category, lang)
        assert number in text and "{" not in text, (lang, category)
        assert "\n" not in text
        if lang in ("zh", "ja"):  # no space where the YAML block broke a line
            assert " " not in text, (lang, category)
    assert number in layer.disclaimer_text(packs[lang])


def test_a_pack_with_malformed_script_bounds_is_refused(tmp_path):
    pack = yaml.safe_load((PACKS_DIR / "zh.yaml").read_text("utf-8"))
    pack["script_bounds"] = {"kana": 0.05}
    (tmp_path / "zh.yaml").write_text(yaml.safe_dump(pack, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SafetyError, match="bad script_bounds"):
        load_packs(tmp_path)
