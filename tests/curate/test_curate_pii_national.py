"""PII formats that differ by country (China, Korea, Japan, France, Spain): each is redacted in its
language's text, near misses are kept, and a domestic format is looked for only in its own language."""

from __future__ import annotations

import pytest
from curate_helpers import qa, step

from medadapt.curate.pii import Redactor, china_resident_id_ok, france_nir_ok, korea_rrn_ok, spain_dni_ok

ALL = ["email", "url", "phone", "national_id", "postal_code", "card", "name"]


@pytest.fixture(scope="module")
def redact():
    return Redactor(ALL).redact


@pytest.mark.parametrize("lang, text, expected, kind", [
    ("zh", "我的手机是13812345678，有事请联系", "我的手机是[PHONE]，有事请联系", "phone"),
    ("zh", "电话：139 1234 5678", "电话：[PHONE]", "phone"),
    ("zh", "可拨打158-0011-2233预约", "可拨打[PHONE]预约", "phone"),
    ("zh", "医院总机010-65432100", "医院总机[PHONE]", "phone"),
    ("zh", "门诊电话（0755）8888 6666", "门诊电话[PHONE]", "phone"),
    ("zh", "门诊电话(0755) 8888 6666", "门诊电话[PHONE]", "phone"),
    ("zh", "身份证号44030519880315123X，请核对", "身份证号[NATIONAL_ID]，请核对", "national_id"),
    ("zh", "身份证 11010519491231002x", "身份证 [NATIONAL_ID]", "national_id"),
    ("ko", "제 번호는 010-1234-5678입니다", "제 번호는 [PHONE]입니다", "phone"),
    ("ko", "연락처 01098765432 로 문자 주세요", "연락처 [PHONE] 로 문자 주세요", "phone"),
    ("ko", "병원 대표번호 02-2072-1234", "병원 대표번호 [PHONE]", "phone"),
    ("ko", "의원 (031) 123-4567", "의원 [PHONE]", "phone"),
    ("ko", "주민등록번호 880315-1234567 을 적어 주세요", "주민등록번호 [NATIONAL_ID] 을 적어 주세요", "national_id"),
    ("ko", "아이 주민번호는 1503154123456", "아이 주민번호는 [NATIONAL_ID]", "national_id"),
    ("ja", "携帯は090-1234-5678です", "携帯は[PHONE]です", "phone"),
    ("ja", "クリニック：03-1234-5678", "クリニック：[PHONE]", "phone"),
    ("ja", "代表 045-123-4567 まで", "代表 [PHONE] まで", "phone"),
    ("ja", "診療所 0467-12-3456", "診療所 [PHONE]", "phone"),
    ("ja", "電話 06(6123)4567", "電話 [PHONE]", "phone"),
    ("ja", "お問い合わせは0120-123-456へ", "お問い合わせは[PHONE]へ", "phone"),
    ("ja", "住所：〒150-0002 東京都渋谷区", "住所：〒[POSTAL_CODE] 東京都渋谷区", "postal_code"),
    ("ja", "郵便番号：060-0001", "郵便番号：[POSTAL_CODE]", "postal_code"),
    ("fr", "Appelez-moi au 06 12 34 56 78 demain", "Appelez-moi au [PHONE] demain", "phone"),
    ("fr", "cabinet : 01.42.34.56.78", "cabinet : [PHONE]", "phone"),
    ("fr", "mon portable 0712345678", "mon portable [PHONE]", "phone"),
    ("fr", "depuis l'étranger +33 (0)6 12 34 56 78", "depuis l'étranger [PHONE]", "phone"),
    ("fr", "numéro de sécu 1 85 05 78 006 084 91", "numéro de sécu [NATIONAL_ID]", "national_id"),
    ("fr", "NIR 285092A01234593 (né en Corse)", "NIR [NATIONAL_ID] (né en Corse)", "national_id"),
    ("fr", "NIR 2.69.02.99.341.732.85", "NIR [NATIONAL_ID]", "national_id"),
    ("es", "Mi móvil es 612 345 678, llámeme", "Mi móvil es [PHONE], llámeme", "phone"),
    ("es", "consulta: 91 234 56 78", "consulta: [PHONE]", "phone"),
    ("es", "consulta: 912 34 56 78", "consulta: [PHONE]", "phone"),
    ("es", "whatsapp 699112233", "whatsapp [PHONE]", "phone"),
    ("es", "DNI 12345678Z, nacido en 1980", "DNI [NATIONAL_ID], nacido en 1980", "national_id"),
    ("es", "NIE X-1234567-L", "NIE [NATIONAL_ID]", "national_id"),
    ("es", "con NIE Y7654321G en regla", "con NIE [NATIONAL_ID] en regla", "national_id"),
    ("en", "my Chinese number +86 138 1234 5678", "my Chinese number [PHONE]", "phone"),
    ("fa", "شمارهٔ کره +82 10-1234-5678", "شمارهٔ کره [PHONE]", "phone"),
    ("ar", "هاتف في إسبانيا +34 612 345 678", "هاتف في إسبانيا [PHONE]", "phone"),
])
def test_national_formats_redacted(redact, lang, text, expected, kind):
    redacted, counts = redact(text, lang)
    assert redacted == expected
    assert counts == {kind: 1}


@pytest.mark.parametrize("lang, text", [
    ("zh", "血压 138/90 mmHg，每日剂量 1500 毫克，2023年10月15日复查"),
    ("zh", "住院号 12345678，编号 1381234567"),              # 8 and 10 digits: not a mobile
    ("zh", "号码 12812345678"),                            # second digit 2: no mobile starts 12
    ("zh", "身份证 110105194912310021"),                    # check digit wrong
    ("zh", "编号 310115200202294561"),                      # checksum right, 2002-02-29 does not exist
    ("ko", "혈압 130/85, 공복혈당 126, 2023.10.15 검사"),
    ("ko", "총 1,234,567원, 010-123-456"),                  # too short for a mobile
    ("ko", "880230-1234567"),                             # 30 February
    ("ko", "880315-9234567"),                             # no sex/century digit 9
    ("ja", "2024-03-15に受診、血圧は130/85、体重65.5kg"),
    ("ja", "ロット番号 123-4567"),                          # no 〒 or 郵便番号: not taken for a postal code
    ("ja", "090-1234-567"),                               # one digit short
    ("fr", "rendez-vous le 01.02.2024, 650 000 habitants, tension 12/8"),
    ("fr", "500 mg 3 fois par jour, 06 12 34 56"),          # four pairs only
    ("fr", "NIR 1 85 05 78 006 084 36"),                   # key wrong
    ("es", "700.000.000 de euros, 1.200 mg cada 8 horas"),
    ("es", "código postal 28013, 612 34 56"),
    ("es", "DNI 12345678A, NIE X1234567A"),                # control letters wrong
])
def test_near_misses_kept(redact, lang, text):
    assert redact(text, lang) == (text, {})


@pytest.mark.parametrize("text, lang, other", [
    ("شماره ۰۶۱۲۳۴۵۶۷۸ است", "fa", "fr"),                  # ten digits from 0: French only in French text
    ("call 13812345678", "en", "zh"),
    ("ref 612345678", "en", "es"),
    ("code 880315-1234567", "en", "ko"),
])
def test_domestic_formats_only_in_their_language(redact, text, lang, other):
    assert redact(text, lang) == (text, {})
    assert redact(text, other)[1]


def test_checks():
    assert china_resident_id_ok("11010519491231002X") and not china_resident_id_ok("110105194912310021")
    assert korea_rrn_ok("880315-1234567") and korea_rrn_ok("0002294123456") and not korea_rrn_ok("010229-3123456")
    assert spain_dni_ok("12345678Z") and spain_dni_ok("X-1234567-L") and not spain_dni_ok("12345678A")
    assert france_nir_ok("1 85 05 78 006 084 91") and france_nir_ok("285092A01234593")
    assert not france_nir_ok("185057800608436")


def test_pii_step_uses_the_documents_language():
    pii = step({"step": "pii", "types": ["phone", "national_id"]}, ["zh", "ko", "fr"])
    docs = [qa("zh", "电话", "请打13812345678", lang="zh"), qa("ko", "번호", "010-1234-5678", lang="ko"),
            qa("fr", "tel", "13812345678", lang="fr")]
    result = pii.apply(docs)
    assert [d.record["answer"] for d in docs] == ["请打[PHONE]", "[PHONE]", "13812345678"]
    assert result.counters == {"phone": 2, "documents redacted": 2}
