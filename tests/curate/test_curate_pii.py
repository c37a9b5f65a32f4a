"""PII redaction: every type, Persian and Latin digits, checksums, and no false positives on medical numbers."""

from __future__ import annotations

import pytest
from curate_helpers import qa, step

from medadapt.curate.pii import Redactor, iran_national_id_ok, luhn_ok

ALL = ["email", "url", "phone", "national_id", "card", "name"]


@pytest.fixture(scope="module")
def redact():
    return Redactor(ALL).redact


@pytest.mark.parametrize("text, expected, kind", [
    ("ایمیل من ali.rezaei@gmail.com است", "ایمیل من [EMAIL] است", "email"),
    ("به https://example.ir/page?id=3 سر بزنید.", "به [URL] سر بزنید.", "url"),
    ("شماره ۰۹۱۲۳۴۵۶۷۸۹ است", "شماره [PHONE] است", "phone"),
    ("call 0912 345 6789 now", "call [PHONE] now", "phone"),
    ("یا +98 912 345 6789", "یا [PHONE]", "phone"),
    ("یا ۰۰۹۸۹۱۲۳۴۵۶۷۸۹", "یا [PHONE]", "phone"),
    ("مطب: ۰۲۱-۸۸۷۷۶۶۵۵", "مطب: [PHONE]", "phone"),
    ("office (021) 8877 6655", "office [PHONE]", "phone"),
    ("US +1 415 555 2671", "US [PHONE]", "phone"),
    ("کد ملی ۰۰۸۴۵۷۵۹۴۸ دارم", "کد ملی [NATIONAL_ID] دارم", "national_id"),
    ("code 008-457594-8", "code [NATIONAL_ID]", "national_id"),
    ("کارت ۴۱۱۱ ۱۱۱۱ ۱۱۱۱ ۱۱۱۱ است", "کارت [CARD] است", "card"),
    ("card 4111-1111-1111-1111", "card [CARD]", "card"),
    ("دکتر علی رضایی گفت", "دکتر [NAME] گفت", "name"),
    ("خانم احمدی آمد", "خانم [NAME] آمد", "name"),
    ("آقای محمدی", "آقای [NAME]", "name"),
    ("Dr. John Smith said", "Dr. [NAME] said", "name"),
    ("ask Mrs. Brown", "ask Mrs. [NAME]", "name"),
])
def test_each_type_redacted(redact, text, expected, kind):
    redacted, counts = redact(text)
    assert redacted == expected
    assert counts == {kind: 1}


@pytest.mark.parametrize("text", [
    "روزی ۵۰۰ میلی‌گرم استامینوفن بخورید",
    "فشار خون ۱۲۰/۸۰ طبیعی است",
    "BP 120/80 mmHg, glucose 126 mg/dL, 1000 mg twice a day",
    "قند ناشتا ۱۲۶ و هموگلوبین ۱۳٫۵ و سال ۱۴۰۲/۰۵/۱۲",
    "بتای ۳۷ مشکوک است و TSH برابر 2.5",
    "کد ملی ۰۰۸۴۵۷۵۹۴۹",          # checksum fails: not a national ID
    "card 4111 1111 1111 1112",    # Luhn fails
    "سلام دکتر جان، دکتر زنان من گفت",  # greetings and specialities are not names
    "تحت نظر دکتر متخصص بوده ام",
    "Dr. Who is a TV show",
])
def test_no_false_positives(redact, text):
    assert redact(text) == (text, {})


def test_checksums():
    assert iran_national_id_ok("0084575948") and not iran_national_id_ok("0084575949")
    assert not iran_national_id_ok("1111111111")
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


def test_pii_step_counts_types_and_keeps_every_document():
    pii = step({"step": "pii", "types": ["phone", "email"]})
    docs = [qa("1", "شماره ۰۹۱۲۳۴۵۶۷۸۹", "ایمیل a@b.com و 09121112233"), qa("2", "سوال", "دکتر رضایی")]
    result = pii.apply(docs)
    assert len(result.kept) == 2 and not result.rejected
    assert docs[0].record["answer"] == "ایمیل [EMAIL] و [PHONE]"
    assert docs[1].record["answer"] == "دکتر رضایی"  # names not asked for
    assert result.counters == {"phone": 2, "email": 1, "documents redacted": 1}
