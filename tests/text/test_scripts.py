"""Script detection from letters: what the safety layer's language guard reads."""

from __future__ import annotations

import re

from medadapt.text.scripts import char_class, script_of, script_shares


def test_script_of_letters_only():
    assert [script_of(c) for c in "aé ب ﻋ ж 3 ."] == ["latin", "latin", None, "arabic", None, "arabic", None, "other",
                                                        None, None, None, None]


def test_shares_count_letters_not_digits_or_spaces():
    shares, letters = script_shares("سلام hi 123!")
    assert letters == 6 and shares == {"arabic": 4 / 6, "latin": 2 / 6}
    assert script_shares("123 ...") == ({}, 0)


def test_char_class_covers_the_script_ranges():
    arabic = re.compile(char_class("arabic"))
    assert arabic.match("ی") and arabic.match("ﻋ") and arabic.match("\u0640") and not arabic.match("a")


def test_han_kana_and_hangul_are_scripts_of_their_own():
    assert [script_of(c) for c in "胸が痛いー々가ｶＣ〇"] == ["han", "kana", "han", "kana", "kana", "han", "hangul",
                                                           "kana", "latin", None]
    shares, letters = script_shares("胸が痛い")
    assert letters == 4 and shares == {"han": 0.5, "kana": 0.5}
