"""Word pools for the generated HelpCrunch account: names, places and message texts in four languages."""

from __future__ import annotations

LOCALES = ("pl", "uk", "ru", "en")

# (native first name, latin first name) and (native surname, latin surname) per locale
FIRST_NAMES: dict[str, list[tuple[str, str]]] = {
    "pl": [("Zofia", "zofia"), ("Łukasz", "lukasz"), ("Małgorzata", "malgorzata"), ("Paweł", "pawel"),
           ("Agnieszka", "agnieszka"), ("Jędrzej", "jedrzej"), ("Kasia", "kasia")],
    "uk": [("Олена", "olena"), ("Тарас", "taras"), ("Ґанна", "hanna"), ("Юрій", "yurii"),
           ("Ірина", "iryna"), ("Богдан", "bohdan"), ("Їржі", "jirzi")],
    "ru": [("Алёна", "alyona"), ("Дмитрий", "dmitriy"), ("Сергей", "sergey"), ("Наталья", "natalya"),
           ("Ёлка", "yolka"), ("Игорь", "igor")],
    "en": [("John", "john"), ("Mary-Ann", "maryann"), ("O'Neil", "oneil"), ("Lisa", "lisa"),
           ("Mateus", "mateus"), ("Chloé", "chloe")],
}
SURNAMES: dict[str, list[tuple[str, str]]] = {
    "pl": [("Nowak", "nowak"), ("Wiśniewska", "wisniewska"), ("Żółkiewski", "zolkiewski"), ("Kowalczyk", "kowalczyk")],
    "uk": [("Шевченко", "shevchenko"), ("Коваленко", "kovalenko"), ("Бойко", "boiko"), ("Ґудзь", "gudz")],
    "ru": [("Смирнова", "smirnova"), ("Кузнецов", "kuznetsov"), ("Попов", "popov"), ("Соловьёв", "solovyov")],
    "en": [("Smith", "smith"), ("Doe", "doe"), ("Rodes", "rodes"), ("Brown", "brown")],
}
EMAIL_DOMAINS = ("example.com", "gmail.com", "wp.pl", "ukr.net", "mail.example.org", "example.co.uk")
COMPANIES = ("Example Inc.", "Żabka Sp. z o.o.", "ТОВ «Сонях»", "ООО «Ромашка»", "Acme & Sons", "Kraków Soft")
PHONE_PREFIX = {"pl": "+48", "uk": "+380", "ru": "+7", "en": "+44"}
LOCATIONS: dict[str, list[tuple[str, str, str]]] = {  # (regionCode, countryCode, city)
    "pl": [("Mazowieckie", "PL", "Warszawa"), ("Małopolskie", "PL", "Kraków")],
    "uk": [("Kyyivs'ka Oblast", "UA", "Kyiv"), ("L'vivs'ka Oblast", "UA", "Lviv")],
    "ru": [("Almaty", "KZ", "Almaty"), ("Riga", "LV", "Riga")],
    "en": [("England", "GB", "London"), ("California", "US", "San Francisco")],
}
TIMEZONES = {"pl": "Europe/Warsaw", "uk": "Europe/Kiev", "ru": "Asia/Almaty", "en": "Europe/London"}
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/86.0.4240.111 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
)
TAGS = (("vip", "#ff0000"), ("Lead", "#00aa00"), ("Paid", "#0000ff"), ("trial", "#999999"),
        ("партнер", "#ffaa00"), ("zwrot", "#aa00aa"))
CREATED_FROM = ("widget", "widget", "widget", "telegram", "facebook", "instagram", "viber", "whatsapp", "api")
CHANNEL_ID_KEYS = {"telegram": "telegramId", "facebook": "facebookId", "instagram": "instagramId",
                   "viber": "viberId", "whatsapp": "whatsappId"}

AGENT_NAMES = (("Lisa Rodes", "lisa.rodes"), ("Frodo", "frodo"), ("Олександра Мельник", "o.melnyk"),
               ("Piotr Wójcik", "piotr.wojcik"), ("Nick Grachesku", "nick.grachesku"),
               ("Анна Орлова", "anna.orlova"), ("Les", "les.melnik"), ("Sarah", "sarah"))
AGENT_ROLES = ("admin", "agent", "agentChatOnly", "superviser")
DEPARTMENT_NAMES = ("Support", "Sales", "Billing", "Marketing", "Wsparcie", "Підтримка")

CUSTOMER_TEXTS: dict[str, list[str]] = {
    "pl": ["Dzień dobry, mam problem z logowaniem 😕", "Czy mogę zmienić plan na roczny?",
           "Zażółć gęślą jaźń — test polskich znaków ✅", "Nie dostałem faktury za marzec 🧾",
           "Dziękuję bardzo! 🙏", "Kiedy przesyłka dotrze do Krakowa? 📦"],
    "uk": ["Добрий день! Не можу оплатити замовлення 💳", "Чи є у вас доставка до Львова? 🚚",
           "Ґанок, їжак, європейський — перевірка літер 🇺🇦", "Дякую, все працює 👍",
           "Де знайти рахунок за квітень?", "Підкажіть, будь ласка, як змінити пароль 🔑"],
    "ru": ["Здравствуйте, не приходит письмо с подтверждением 📧", "Можно вернуть товар? 🤔",
           "Ёжик в тумане — проверка буквы ё", "Спасибо за помощь! 😊", "Где мой заказ №12345?"],
    "en": ["Hi, I can't log in to my account 😩", "Can you can a can as a canner can can a can?",
           "How much wood would a woodchuck chuck if a woodchuck could chuck wood?",
           "Thanks a lot! 👩‍💻🎉", "Where is my invoice?\nI need it for \"accounting\"."],
}
AGENT_TEXTS: dict[str, list[str]] = {
    "pl": ["Dzień dobry! W czym mogę pomóc? 🙂", "Sprawdzę to i wrócę z odpowiedzią.",
           "Faktura została wysłana ponownie 📨", "Czy mogę jeszcze w czymś pomóc?"],
    "uk": ["Вітаю! Чим можу допомогти? 🙂", "Перевіряю інформацію, зачекайте хвилинку ⏳",
           "Рахунок надіслано на вашу пошту 📨", "Чи можу ще чимось допомогти?"],
    "ru": ["Здравствуйте! Чем могу помочь? 🙂", "Уточняю информацию, минутку ⏳",
           "Письмо отправлено повторно 📨", "Могу ли я ещё чем-то помочь?"],
    "en": ["Hello, how can I help you?", "Hi Mateus. My name is Lisa.\nI have an offer for you. "
           "Can we hop on a quick call this week?", "I've re-sent the invoice 📨", "Anything else I can do? 😊"],
}
PRIVATE_TEXTS = ("Klient VIP — priorytet!", "Передати в бухгалтерію", "Проверить возврат в CRM",
                 "Escalate to billing @Frodo 🔥")
TECH_TEXTS = ("request_rating", "resolution_time", "status_updated", "chat_assigned")
KB_TEXTS = ("https://help.example.com/article/12-jak-zmienic-haslo",
            "https://help.example.com/article/34-yak-oplatyty", "https://help.example.com/article/56-refunds")
EMAIL_TEXTS = ("Re: Faktura 03/2024\n\nDzień dobry,\nw załączniku przesyłam fakturę.\n\nPozdrawiam",
               "Re: Замовлення #4521\n\nДобрий день!\nВаше замовлення відправлено 🚚",
               "Re: Order #4521\n\nHello,\nyour refund has been processed.\n\n-- \nSupport team")
ATTACHMENT_TEXTS = ("https://ucarecdn.com/0b7e3d4c-5f1a-4c49-a1d2-9e5f0b0c1a77/",
                    "7d2c4e0f-9a8b-4c3d-b2e1-f0a9b8c7d6e5", "https://ucarecdn.com/a1b2c3d4-e5f6-4789-abcd-ef0123456789/scan.pdf")
CUSTOMER_NOTES = ("Prefers email", "Просить дзвонити після 18:00", "Постоянный клиент", None, None, None)
