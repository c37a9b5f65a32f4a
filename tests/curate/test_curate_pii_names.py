"""Person names after (fr, es) or before (zh, ja, ko) a title become [NAME] in their language's text; the
title stays, and the everyday words around doctors and nurses (患者さん, 向医生咨询, 주치의 선생님) are kept."""

from __future__ import annotations

import pytest

from medadapt.curate.pii import Redactor

REDACTED = [
    ("zh", "王医生说孩子需要多喝水。", "[NAME]医生说孩子需要多喝水。"),
    ("zh", "请张医生看一下化验单。", "请[NAME]医生看一下化验单。"),
    ("zh", "。王建国医生今天不在。", "。[NAME]医生今天不在。"),
    ("zh", "李女士的血压偏高。", "[NAME]女士的血压偏高。"),
    ("ja", "田中先生に相談しました。", "[NAME]先生に相談しました。"),
    ("ja", "佐々木さんは看護師です。", "[NAME]さんは看護師です。"),
    ("ja", "受付で山田様とお呼びします。", "受付で[NAME]様とお呼びします。"),
    ("ko", "김민수 씨는 어제 퇴원했습니다.", "[NAME] 씨는 어제 퇴원했습니다."),
    ("ko", "박 선생님께 여쭤보세요.", "[NAME] 선생님께 여쭤보세요."),
    ("ko", "내일 최 과장님 진료를 받으세요.", "내일 [NAME] 과장님 진료를 받으세요."),
    ("fr", "Le docteur Hélène Dupont a dit de revenir.", "Le docteur [NAME] a dit de revenir."),
    ("fr", "M. Lefèvre est diabétique.", "M. [NAME] est diabétique."),
    ("es", "La doctora Núñez me recetó ibuprofeno.", "La doctora [NAME] me recetó ibuprofeno."),
    ("es", "El Sr. García tiene fiebre.", "El Sr. [NAME] tiene fiebre."),
]
KEPT = [
    ("zh", "我向医生咨询过，医生说没事。"),
    ("zh", "关于医生的建议，我信任医生的判断。"),
    ("zh", "他马上去看医生了，高烧医生说要住院。"),
    ("ja", "患者さんの多くは回復します。お医者さんに行きました。"),
    ("ja", "担当の先生が説明し、看護師さんと歯科医師も来ました。"),
    ("ko", "의사 선생님과 주치의 선생님이 괜찮다고 했어요."),
    ("ko", "부모님께 말씀드리고 소아과 선생님께 약을 받으세요. 날씨가 추워요."),
    ("fr", "Merci docteur, à bientôt. Madame, prenez du paracétamol."),
    ("es", "Gracias, doctor. Hasta luego, señora."),
]


@pytest.mark.parametrize(("lang", "text", "expected"), REDACTED)
def test_a_name_beside_a_title_is_redacted(lang, text, expected):
    out, counts = Redactor(["name"]).redact(text, lang)
    assert (out, counts["name"]) == (expected, 1)


@pytest.mark.parametrize(("lang", "text"), KEPT)
def test_words_around_titles_are_not_names(lang, text):
    assert Redactor(["name"]).redact(text, lang) == (text, {})


def test_a_languages_title_rules_stay_in_its_own_text():
    """The zh, ja, ko, fr and es rules run over their own language's text only (王先生 in Japanese text is
    left to the Japanese rule, which wants a surname of two characters or more)."""
    redactor = Redactor(["name"])
    assert redactor.redact("王先生", "ja")[0] == "王先生" and redactor.redact("王先生", "zh")[0] == "[NAME]先生"
    assert redactor.redact("Sr. García", "en")[0] == "Sr. García"
