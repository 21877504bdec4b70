"""Word pools of the generated Conpeek tenant (Polish contact centre). All values are HYPOTHETICAL."""

from __future__ import annotations

# Conversation kinds from the product manual (SMS, Fax, Email, Webmessage, Poczta głosowa, WhatsApp,
# Facebook); the API strings are not public, these are plausible spellings.
CONVERSATION_TYPES: tuple[str, ...] = (
    "sms", "email", "webmessage", "poczta_glosowa", "whatsapp", "facebook", "fax",
)
TYPE_WEIGHTS: tuple[int, ...] = (30, 22, 18, 6, 14, 8, 2)
# The manual says webmessage and voicemail conversations cannot be answered.
UNANSWERABLE: frozenset[str] = frozenset({"webmessage", "poczta_glosowa"})
PHONE_TYPES: frozenset[str] = frozenset({"sms", "whatsapp", "poczta_glosowa", "fax"})

PROJECTS: tuple[tuple[int, str], ...] = (
    (12, "Obsługa Klienta"),
    (15, "Reklamacje i Zwroty"),
    (21, "Sprzedaż – Kampania Jesień"),
    (34, "Windykacja"),
    (40, "Infolinia Techniczna"),
    (57, "Rezerwacje Hotelowe"),
    (63, "Wsparcie Płatności"),
    (71, "Łódź – Oddział Regionalny"),
)

TENANT_USERS: tuple[int, ...] = tuple(range(101, 141))

CHANNELS: dict[str, tuple[str, ...]] = {
    "sms": ("48221234567", "48800100200", "SKLEP-PL"),
    "email": ("kontakt@sklep-przyklad.pl", "reklamacje@sklep-przyklad.pl", "bok@hotele-przyklad.pl"),
    "webmessage": ("formularz-kontaktowy", "czat-www-glowna"),
    "poczta_glosowa": ("48221234500", "48801000111"),
    "whatsapp": ("48600700800",),
    "facebook": ("104857263519284", "98234710023456"),
    "fax": ("48221234599",),
}

EMAIL_NAMES: tuple[str, ...] = (
    "anna.kowalska", "jan.nowak", "katarzyna.wisniewska", "piotr.wojcik", "malgorzata.kaminska",
    "tomasz.lewandowski", "agnieszka.zielinska", "krzysztof.szymanski", "ewa.dabrowska", "pawel.kozlowski",
)
EMAIL_DOMAINS: tuple[str, ...] = ("wp.pl", "onet.pl", "gmail.com", "interia.pl", "o2.pl", "firma.com.pl")

SUBJECTS: tuple[str, ...] = (
    "Reklamacja zamówienia nr {n}",
    "Pytanie o fakturę VAT",
    "Zmiana adresu dostawy 🚚",
    "RE: Zwrot środków za zamówienie {n}",
    "Rezerwacja pokoju – termin {n}",
    "Nie działa logowanie do panelu",
    "Prośba o kontakt telefoniczny",
    "Oferta współpracy – „Zażółć gęślą jaźń” sp. z o.o.",
)

INBOUND_TEXTS: tuple[str, ...] = (
    "Dzień dobry, chciałbym zmienić adres dostawy 📦",
    "Gdzie jest moja paczka? Czekam już tydzień 😡",
    "Czy mogę zwrócić towar bez paragonu?",
    "Dziękuję za szybką odpowiedź 😊",
    "Proszę o fakturę na firmę, NIP w załączniku.",
    "Nie mogę się zalogować, hasło nie działa 🔒",
    "Czy pokój jest dostępny w weekend 12–14?",
    "Zapłaciłem dwa razy za to samo zamówienie!!!",
    "Dzień dobry,\nw załączniku przesyłam zdjęcia uszkodzonego towaru.\nPozdrawiam",
    "Ok 👍",
    "Czy mogę rozłożyć płatność na raty?",
    "Proszę o kontakt pod numerem 600 700 800.",
    'Zamówienie "ekspresowe" nie przyszło ekspresowo 🙃',
    "Zażółć gęślą jaźń – test znaków 🇵🇱",
)
OUTBOUND_TEXTS: tuple[str, ...] = (
    "Dzień dobry, dziękujemy za wiadomość. Sprawdzamy zamówienie 🔍",
    "Adres dostawy został zmieniony ✅",
    "Zwrot środków zlecony, pieniądze wrócą w ciągu 3 dni roboczych.",
    "Przepraszamy za opóźnienie, paczka jest już w drodze 🚚",
    "Fakturę wysłaliśmy na podany adres e-mail.",
    "Czy mogę jeszcze w czymś pomóc? 🙂",
    "Link do resetu hasła został wysłany.",
    "Potwierdzamy rezerwację. Do zobaczenia! 🏨",
    "Pozdrawiamy,\nZespół Obsługi Klienta",
)
VOICEMAIL_TEXTS: tuple[str, ...] = (
    "[Nagranie 0:42] Dzień dobry, proszę o oddzwonienie w sprawie reklamacji.",
    "[Nagranie 0:15] Halo? Chyba się rozłączyło…",
    "[Nagranie 1:03] Chciałabym przełożyć wizytę na przyszły tydzień.",
)
FAX_TEXTS: tuple[str, ...] = (
    "[Faks] 2 strony – zamówienie hurtowe",
    "[Faks] 1 strona – potwierdzenie przelewu",
)
# One flat pool so that a message stores a small index; the ranges say which pool an index belongs to.
TEXTS: tuple[str, ...] = INBOUND_TEXTS + OUTBOUND_TEXTS + VOICEMAIL_TEXTS + FAX_TEXTS
_IN = (0, len(INBOUND_TEXTS))
_OUT = (_IN[1], _IN[1] + len(OUTBOUND_TEXTS))
_VOICE = (_OUT[1], _OUT[1] + len(VOICEMAIL_TEXTS))
_FAX = (_VOICE[1], len(TEXTS))


def text_range(conversation_type: str, outbound: bool) -> tuple[int, int]:
    """The ``[start, stop)`` indexes of :data:`TEXTS` a message of this kind draws from."""
    if outbound:
        return _OUT
    if conversation_type == "poczta_glosowa":
        return _VOICE
    if conversation_type == "fax":
        return _FAX
    return _IN


SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative")
