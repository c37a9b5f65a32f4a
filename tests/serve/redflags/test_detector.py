"""The red-flag detector's steps on messages written for these tests: normalisation (Persian typed on an
Arabic keyboard, digits of every script, full-width forms), negation, the past, general questions,
hypothetical questions, quantities, the category vetoes, and the evidence each finding carries."""

from __future__ import annotations

import pytest

from medadapt.serve.safety import SafetyLayer


@pytest.fixture(scope="module")
def layer() -> SafetyLayer:
    return SafetyLayer()


def raised(layer: SafetyLayer, text: str) -> list[str]:
    return [f.category for f in layer.red_flags(text)]


NEGATED = {  # a young infant, and no fever: nothing to raise
    "en": "my baby is 3 weeks old and has no fever, just a blocked nose",
    "fa": "نوزادم سه هفته شه و تب نداره، فقط آبریزش بینی داره",
    "ar": "رضيعي عمره ٣ أسابيع وما عنده حرارة، بس زكام",
    "zh": "宝宝三周大，没有发烧，就是鼻塞",
    "ja": "生後3週の赤ちゃん、熱はないけど鼻が詰まっている",
    "ko": "생후 3주 아기인데 열은 없고 코만 막혀요",
    "fr": "mon bébé a 3 semaines, pas de fièvre, juste le nez bouché",
    "es": "mi bebé tiene 3 semanas, sin fiebre, solo mocos",
}
FEVER = {lang: text for lang, text in {
    "en": "my baby is 3 weeks old and has a fever of 38.4",
    "fa": "نوزادم سه هفته شه و تب ۳۸.۴ داره",
    "ar": "رضيعي عمره ٣ أسابيع وحرارته ٣٨.٤",
    "zh": "宝宝三周大，发烧38.4度",
    "ja": "生後3週の赤ちゃんが38.4度の熱",
    "ko": "생후 3주 아기가 열이 38.4도예요",
    "fr": "mon bébé a 3 semaines et 38,4 de fièvre",
    "es": "mi bebé tiene 3 semanas y 38,4 de fiebre",
}.items()}


@pytest.mark.parametrize("lang", list(NEGATED))
def test_no_fever_raises_nothing_and_a_fever_does(layer, lang):
    detection = layer.detection(NEGATED[lang])
    assert detection.findings == [], NEGATED[lang]
    assert detection.set_aside, "the negated span is named"
    assert raised(layer, FEVER[lang]) == ["infant_fever"], FEVER[lang]


def test_a_negated_red_flag_word_that_is_itself_the_emergency_is_kept(layer):
    assert "breathing_difficulty" in raised(layer, "no, he is not breathing")
    assert "unconscious" in raised(layer, "she collapsed and there is no pulse")
    assert "suicidal" in raised(layer, "I no longer want to live")
    assert "unconscious" in raised(layer, "بابام افتاده و نبض نداره")


def test_the_past_raises_nothing_unless_it_is_back_now(layer):
    assert raised(layer, "had chest pain last year, fine now") == []
    assert raised(layer, "پارسال درد قفسه سینه داشتم، الان خوبم") == []
    assert raised(layer, "去年胸口痛过，现在好了") == []
    assert "stroke" in raised(layer, "she had a stroke two years ago and now her face is drooping again")
    assert layer.detection("had chest pain last year, fine now").set_aside == ["had chest pain last year"]


def test_a_general_question_is_not_an_emergency_but_a_hypothetical_one_gets_guidance(layer):
    assert raised(layer, "what is the difference between a seizure and fainting?") == []
    assert raised(layer, "¿qué diferencia hay entre una convulsión y un desmayo?") == []
    assert "cardiac_chest_pain" in raised(layer, "what should I do if my husband gets chest pain going to his left arm?")
    assert "seizure" in raised(layer, "what should I do if someone has a fit in front of me")
    assert "cardiac_chest_pain" in raised(layer, "اگه شوهرم درد قفسه سینه بگیره و عرق کنه چیکار کنم؟")


def test_persian_typed_on_an_arabic_keyboard(layer):
    for arabic_keyboard, persian in (("مي خواهم خودم را بكشم", "می خواهم خودم را بکشم"),
                                     ("بچه ام داره تشنج ميكنه", "بچه ام داره تشنج میکنه"),
                                     ("يك مشت قرص خواب خورده", "یک مشت قرص خواب خورده")):
        assert raised(layer, arabic_keyboard) == raised(layer, persian) != [], arabic_keyboard
        assert layer.detect_language(arabic_keyboard) == "fa"


def test_quantities_and_times_in_any_digits(layer):
    for text in ("I took 30 tablets of paracetamol an hour ago", "swallowed a whole box of sleeping pills",
                 "۳۰ تا قرص استامینوفن خوردم یک ساعت پیش", "بلعت ٣٠ حبة بنادول قبل ساعة",
                 "一个小时前吃了３０片安眠药", "睡眠薬を３０錠飲んだ", "타이레놀 30알을 먹었어요",
                 "j'ai pris 30 comprimés de doliprane", "me tomé 30 pastillas de paracetamol"):
        assert "poisoning_overdose" in raised(layer, text), text
    assert raised(layer, "how many paracetamol tablets can I take in a day?") == []


def test_category_vetoes(layer):
    assert raised(layer, "I have a fever of 38.5 and a sore throat") == []  # infant fever needs an infant
    assert raised(layer, "I'm pregnant and my nose bleeds a bit sometimes") == []  # a nosebleed
    assert "pregnancy_bleeding: unless 'nose bleed'" in layer.detection("I'm pregnant and my nose bleeds").set_aside


def test_each_finding_says_what_found_it(layer):
    [rule] = layer.red_flags("I want to kill myself")
    assert (rule.category, rule.source, rule.evidence, rule.lang) == ("suicidal", "rule", "kill myself", "en")
    [semantic] = layer.red_flags("my chest feels like an elephant is sitting on it")
    assert semantic.category == "cardiac_chest_pain" and semantic.source == "semantic"
    assert semantic.evidence.startswith("p=") and " like: " in semantic.evidence


def test_the_semantic_layer_can_be_left_out(layer):
    rules_only = SafetyLayer(semantic=False)
    assert rules_only.red_flags("my chest feels like an elephant is sitting on it") == []
    assert raised(rules_only, "I want to kill myself") == ["suicidal"]


def test_a_past_event_said_to_be_over_raises_nothing_even_with_now(layer):
    assert raised(layer, "I had a seizure years ago but I'm fine now, can I swim?") == []
    assert raised(layer, "3年前に心筋梗塞をしたけど今は元気です") == []
    assert "seizure" in raised(layer, "he had a seizure years ago and now he is having one again")


def test_a_question_about_prevention_or_signs_is_general(layer):
    for text in ("how can my mother lower her risk of a heart attack?", "怎么预防中风？",
                 "¿cómo prevenir un infarto en mi padre?"):
        assert raised(layer, text) == [], text


def test_infant_fever_falls_where_the_child_is_older(layer):
    assert raised(layer, "my baby is 2 years old and has 38.5") == []
    assert raised(layer, "بچه چهار سالم یک روزه تب ۳۸ داره") == []
    assert raised(layer, "my baby is 5 weeks old and has 38.5") == ["infant_fever"]
