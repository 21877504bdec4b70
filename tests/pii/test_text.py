"""Masking inside text: e-mails, phone numbers and card numbers in Polish, Ukrainian, Russian and English, and
the look-alikes that must stay (order numbers, dates, prices, times, ISO timestamps, ids)."""

from __future__ import annotations

import pytest

from emulators.conpeek import vocab
from emulators.helpcrunch import texts
from emulators.jaicp.phrases import PHRASES
from pipelines.pii.keys import contact_hash, normalize_contact
from pipelines.pii.text import CANDIDATE, luhn, mask_text

MASKED = [  # (text, masked)
    ("Proszę o kontakt pod numerem 600 700 800.", "Proszę o kontakt pod numerem [phone]."),
    ("Zadzwoń: +48 22 123 45 67 albo napisz na jan.kowalski@wp.pl", "Zadzwoń: [phone] albo napisz na [email]"),
    ("tel. (22) 123 45 67, numer:600700800,", "tel. [phone], numer:[phone],"),
    ("Mój e-mail to Zofia.Nowak+faktury@firma.com.pl 🙏", "Mój e-mail to [email] 🙏"),
    ("Мій номер 050 123 4567, пишіть на olena@ukr.net 🇺🇦", "Мій номер [phone], пишіть на [email] 🇺🇦"),
    ("Добрий день! Карта 4111 1111 1111 1111 не проходить 💳", "Добрий день! Карта [card] не проходить 💳"),
    ("Мой телефон +7 (912) 345-67-89, почта иван@пример.рф", "Мой телефон [phone], почта [email]"),
    ("Звоните 8 (800) 555-35-35 или 8 912 345 67 89", "Звоните [phone] или [phone]"),
    ("карта 5500-0000-0000-0004, срок 12/27", "карта [card], срок 12/27"),
    ("Call me on 07911 123456 or +44 20 7946 0958", "Call me on [phone] or [phone]"),
    ("Amex 3782 822463 10005 and Discover 6011111111111117", "Amex [card] and Discover [card]"),
    ("US office +1 415 555 2671; mail jdoe@example.co.uk.", "US office [phone]; mail [email]."),
    ("WhatsApp 48600700800, Telegram id +380501234567", "WhatsApp [phone], Telegram id [phone]"),
]

KEPT = [  # look-alikes: nothing to mask
    "Где мой заказ №12345?", "Номер заказа 458812", "Zamówienie #4521 z 03/2024", "Order 2024050112345",
    "Re: Order #4521", "Доставка по городу — 299 ₽, от 3000 ₽ бесплатно.", "Cena 1 299 000,00 zł",
    "Price $12,345,678.90", "Ціна 12 500 грн", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123456+02:00",
    "on 01.05.2024 at 10:00", "dates 2024-05-01 – 2024-05-14", "1.5.2024 i 10.05.24 i 2024/05/01",
    "Мы работаем ежедневно с 9:00 до 21:00.", "id 7d2c4e0f-9a8b-4c3d-b2e1-f0a9b8c7d6e5", "fb 104857263519284",
    "ts 1714557600", "ms 1714557600123", "IBAN PL61 1090 1014 0000 0712 1981 2874", "NIP 526-104-08-28",
    "PESEL 44051401359",
    "invoice FV/2024/05/000123", "tracking 00340434292135100186", "card ending 1111", "4111 1111 1111 1112",
    "Escalate to billing @Frodo 🔥", "user@localhost", "https://help.example.com/article/12-jak-zmienic-haslo",
    "[Nagranie 0:42] proszę o oddzwonienie", "Czy pokój jest dostępny w weekend 12–14?", "version 1.31.0",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_in_four_languages_is_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_look_alikes_are_kept(text: str) -> None:
    assert mask_text(text) == text


def test_the_generated_texts_of_the_emulators_keep_all_but_their_one_phone_number() -> None:
    pool = [*(t for ts in texts.CUSTOMER_TEXTS.values() for t in ts), *(t for ts in texts.AGENT_TEXTS.values()
            for t in ts), *texts.PRIVATE_TEXTS, *texts.TECH_TEXTS, *texts.KB_TEXTS, *texts.EMAIL_TEXTS,
            *texts.ATTACHMENT_TEXTS, *(n for n in texts.CUSTOMER_NOTES if n), *vocab.TEXTS, *vocab.SUBJECTS,
            *(p.question for p in PHRASES), *(p.answer for p in PHRASES)]
    assert len(set(pool)) >= 170
    changed = {text: mask_text(text) for text in pool if mask_text(text) != text}
    assert changed == {"Proszę o kontakt pod numerem 600 700 800.": "Proszę o kontakt pod numerem [phone]."}


def test_known_limits() -> None:
    """Documented in docs/pii.md: what the rules cannot tell apart."""
    assert mask_text("order 4000000000000002 ref") == "order [card] ref"  # a Luhn-valid 16-digit order number
    assert mask_text("Звоните 123-45-67") == "Звоните 123-45-67"  # a local number without its area code
    assert mask_text("Tel 600-700-800/801") == "Tel 600-700-800/801"  # numbers run together with others
    assert mask_text("jan kropka kowalski małpa wp kropka pl") == "jan kropka kowalski małpa wp kropka pl"


def test_the_cheap_prefilter_passes_every_masked_text() -> None:
    assert all(CANDIDATE.search(text) for text, _ in MASKED)
    assert not CANDIDATE.search("Dziękuję bardzo! 🙏 Номер заказа 45881")


def test_luhn() -> None:
    assert luhn("4111111111111111") and luhn("79927398713") and not luhn("4111111111111112")


def test_contact_hash_is_keyed_and_one_per_contact() -> None:
    key, other = b"k" * 32, b"o" * 32
    assert contact_hash("Jan.Kowalski@WP.pl ", key) == contact_hash("jan.kowalski@wp.pl", key)
    assert contact_hash("+48 600-700-800", key) == contact_hash("48600700800", key)
    assert contact_hash("jan@wp.pl", key) != contact_hash("jan@wp.pl", other)
    assert contact_hash("jan@wp.pl", key) != contact_hash("jana@wp.pl", key)
    assert contact_hash(79123456789, key).startswith("pii:") and len(contact_hash("x", key)) == 24
    assert normalize_contact(" web-0a1b2c ") == "web-0a1b2c"  # not a phone: kept as it is


def test_the_rules_are_documented() -> None:
    from pipelines.pii.rules import RULES
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "pii.md").read_text()
    for source, tables in RULES.items():
        for table, columns in tables.items():
            assert f"`{source}.{table}`" in page, table
            row = next(line for line in page.splitlines() if line.startswith("|") and f"`{source}.{table}`" in line)
            assert all(f"`{column}`" in row for column in columns), (table, columns)
