"""Emergency numbers: the recipe's country (chat.country) names the numbers in every guidance, a language's
own country otherwise, the default ones where neither is known; an unknown country is refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from medadapt.recipe.schema import ChatSection
from medadapt.serve.redflags.rules import SafetyError
from medadapt.serve.safety import SafetyLayer, load_packs


@pytest.fixture(scope="module")
def packs():
    return load_packs()


@pytest.mark.parametrize(("country", "lang", "number", "crisis"), [
    ("IR", "fa", "۱۱۵", "۱۴۸۰"), ("SA", "ar", "997", None), ("CN", "zh", "120", None), ("JP", "ja", "119", None),
    ("KR", "ko", "119", "109"), ("FR", "fr", "15 / 112", "3114"), ("ES", "es", "112", "024"),
    ("US", "en", "911", "988"), ("GB", "en", "999", "116 123"),
])
def test_the_recipe_country_names_its_numbers(packs, country, lang, number, crisis):
    layer = SafetyLayer(packs, country=country)
    for category in packs[lang].red_flags:
        assert number in layer.guidance(category, lang), (country, category)
    suicidal = layer.guidance("suicidal", lang)
    if crisis:
        assert crisis in suicidal
    assert number in layer.disclaimer_text(packs[lang])


def test_without_a_country_a_language_keeps_its_own_or_the_default(packs):
    layer = SafetyLayer(packs)
    assert "۱۱۵" in layer.guidance("stroke", "fa") and "120" in layer.guidance("stroke", "zh")
    assert "119" in layer.guidance("seizure", "ja") and "119" in layer.guidance("seizure", "ko")
    for lang in ("en", "ar", "fr", "es"):  # spoken in many countries: 112 / 911 / 999
        assert "112 / 911 / 999" in layer.guidance("unconscious", lang), lang


def test_an_unknown_country_is_refused_in_one_line(packs):
    with pytest.raises(SafetyError, match="no emergency numbers for country 'XX'") as error:
        SafetyLayer(packs, country="XX")
    assert "\n" not in str(error.value) and "chat.country" in str(error.value)
    assert ChatSection(country="FR").country == "FR"
    with pytest.raises(ValidationError):
        ChatSection(country="France")
