"""Text catalogues of the JAICP emulator: client phrases, bot answers, names, labels and operators."""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ("telegram", "viber", "vk", "chatwidget", "resterisk", "whatsapp")
CHANNEL_WEIGHTS = (30, 12, 12, 22, 14, 10)
STATUS_CHANNELS = frozenset({"telegram", "viber", "vk"})
TELEPHONY = "resterisk"

#: Message delivery statuses; index 0 means "no status" (the channel reports none).
STATUSES = ("", "SENT", "DELIVERED", "READ", "NOT_SENT", "NOT_DELIVERED")
SENT, DELIVERED, READ, NOT_SENT, NOT_DELIVERED = 1, 2, 3, 4, 5
#: The progression of a delivered answer per channel (SENT only in Telegram and VK, READ only in Viber and VK).
STATUS_LADDER = {
    "telegram": (SENT, DELIVERED),
    "viber": (DELIVERED, READ),
    "vk": (SENT, DELIVERED, READ),
}
STATUS_FAILURE = {"telegram": NOT_SENT, "viber": NOT_DELIVERED, "vk": NOT_SENT}

TRANSFER_ANSWER = {
    "ru": "Перевожу вас на оператора, пожалуйста, подождите.",
    "en": "Transferring you to an operator, please wait.",
}


@dataclass(frozen=True)
class Phrase:
    """One dialogue step: the client's phrase, the bot's (or operator's) answer and how the NLU saw it."""

    lang: str
    kind: str  # start | normal | transfer | operator | bye
    question: str
    answer: str
    nlp_class: str = ""
    rule_type: str = "intent"
    event: str = ""


def _p(lang: str, kind: str, question: str, answer: str, nlp_class: str = "", rule_type: str = "intent",
       event: str = "") -> Phrase:
    return Phrase(lang, kind, question, answer, nlp_class, rule_type, event)


PHRASES: tuple[Phrase, ...] = (
    _p("ru", "start", "/start", "Здравствуйте! Я виртуальный помощник. Чем могу помочь?", "/Start", "pattern", "start"),
    _p("ru", "start", "Здравствуйте", "Добрый день! Чем могу помочь?", "/Hello"),
    _p("ru", "start", "Алло", "Здравствуйте! Вы позвонили в службу поддержки. Чем могу помочь?", "/Hello"),
    _p("ru", "normal", "Где мой заказ?", "Назовите, пожалуйста, номер заказа.", "/Order/Status"),
    _p("ru", "normal", "Номер заказа 458812", "Заказ 458812 передан в службу доставки, ожидайте завтра.",
       "/Order/Number"),
    _p("ru", "normal", "Как оформить возврат?", "Возврат можно оформить в личном кабинете в разделе «Заказы».",
       "/Return"),
    _p("ru", "normal", "Сколько стоит доставка?", "Доставка по городу — 299 ₽, от 3000 ₽ бесплатно.",
       "/Delivery/Price"),
    _p("ru", "normal", "Какой у вас график работы?", "Мы работаем ежедневно с 9:00 до 21:00.", "/Schedule"),
    _p("ru", "normal", "Не приходит код из СМС", "Проверьте номер телефона и запросите код повторно через минуту.",
       "/Auth/Sms"),
    _p("ru", "normal", "Хочу поменять адрес доставки", "Укажите, пожалуйста, новый адрес.", "/Delivery/Address"),
    _p("ru", "normal", "ул. Ленина, д. 5, кв. 12", "Спасибо, адрес изменён.", "/Delivery/Address/Set"),
    _p("ru", "normal", "Можно оплатить картой при получении?", "Да, курьеры принимают карты и СБП.", "/Payment"),
    _p("ru", "normal", "Есть ли скидки для пенсионеров?", "Да, по социальной карте действует скидка 5%.",
       "/Discount"),
    _p("ru", "normal", "ыва", "Извините, я вас не понял. Переформулируйте, пожалуйста.", "/NoMatch", "event",
       "noMatch"),
    _p("ru", "normal", "Да", "Отлично! Что-нибудь ещё?", "/Yes", "pattern"),
    _p("ru", "normal", "Нет, спасибо", "Хорошо. Если появятся вопросы — пишите!", "/No", "pattern"),
    _p("ru", "transfer", "Позовите оператора", TRANSFER_ANSWER["ru"], "/Operator"),
    _p("ru", "transfer", "Хочу поговорить с человеком", TRANSFER_ANSWER["ru"], "/Operator"),
    _p("ru", "operator", "Мне так и не пришёл заказ", "Сейчас проверю информацию по вашему заказу."),
    _p("ru", "operator", "Уже неделю жду", "Приносим извинения, оформили компенсацию доставки."),
    _p("ru", "operator", "Хорошо, жду звонка", "Курьер свяжется с вами в течение часа."),
    _p("ru", "bye", "Спасибо, до свидания", "Всего доброго! Обращайтесь.", "/Bye"),
    _p("en", "start", "/start", "Hi! I am a virtual assistant. How can I help you?", "/Start", "pattern", "start"),
    _p("en", "start", "Hello", "Good afternoon! How can I help?", "/Hello"),
    _p("en", "start", "Hello?", "Hello! You have reached customer support. How can I help?", "/Hello"),
    _p("en", "normal", "Where is my order?", "Please tell me your order number.", "/Order/Status"),
    _p("en", "normal", "Order number 458812", "Order 458812 is with the courier and arrives tomorrow.",
       "/Order/Number"),
    _p("en", "normal", "How do I return an item?", "You can request a return under Orders in your account.",
       "/Return"),
    _p("en", "normal", "How much is shipping?", "Shipping is $4.99, free on orders over $50.", "/Delivery/Price"),
    _p("en", "normal", "What are your opening hours?", "We are open daily from 9 am to 9 pm.", "/Schedule"),
    _p("en", "normal", "I did not get the SMS code", "Please check your phone number and request a new code.",
       "/Auth/Sms"),
    _p("en", "normal", "Can I pay by card on delivery?", "Yes, couriers accept cards and Apple Pay.", "/Payment"),
    _p("en", "normal", "asdf", "Sorry, I did not understand. Could you rephrase?", "/NoMatch", "event", "noMatch"),
    _p("en", "normal", "Yes", "Great! Anything else?", "/Yes", "pattern"),
    _p("en", "normal", "No, thanks", "Okay. Write to us any time!", "/No", "pattern"),
    _p("en", "transfer", "Talk to a human", TRANSFER_ANSWER["en"], "/Operator"),
    _p("en", "transfer", "I need an operator", TRANSFER_ANSWER["en"], "/Operator"),
    _p("en", "operator", "My parcel never arrived", "Let me check your order, one moment please."),
    _p("en", "operator", "I have been waiting for a week", "We are sorry; we have refunded the shipping fee."),
    _p("en", "operator", "Ok, thank you", "You are welcome, have a nice day!"),
    _p("en", "bye", "Thanks, bye", "Goodbye! Have a nice day.", "/Bye"),
)


def phrase_indices(lang: str, kind: str) -> tuple[int, ...]:
    """Indices into :data:`PHRASES` of one language and kind."""
    return tuple(i for i, p in enumerate(PHRASES) if p.lang == lang and p.kind == kind)


FIRST_NAMES = {
    "ru": ("Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Анна", "Сергей", "Екатерина", "Никита", "Татьяна"),
    "en": ("John", "Emma", "Michael", "Olivia", "David", "Sophia", "James", "Emily", "Daniel", "Grace"),
}
LAST_NAMES = {
    "ru": ("Петров", "Смирнова", "Иванов", "Кузнецова", "Соколов", "Попова", "Лебедев", "Новикова"),
    "en": ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Walker"),
}
LATIN = {"Иван": "ivan", "Мария": "maria", "Алексей": "alexey", "Ольга": "olga", "Дмитрий": "dmitry",
         "Анна": "anna", "Сергей": "sergey", "Екатерина": "katya", "Никита": "nikita", "Татьяна": "tanya"}

OPERATORS = (
    ("1101", "Елена", "Морозова"),
    ("1102", "Павел", "Орлов"),
    ("1103", "Sarah", "Miller"),
)
OPERATOR_CHANNEL = "aimychat"

SESSION_RESULTS = ("resolved", "order_status_given", "transferred", "abandoned", "callback_requested")

SESSION_LABELS = (  # id, name, priority
    (1, "resolved", 0), (2, "unresolved", 1), (3, "complaint", 2), (4, "vip", 3), (5, "spam", 4),
)
MESSAGE_LABEL_GROUPS = ((1, "Quality", 0), (2, "Topics", 1))
MESSAGE_LABELS = (  # id, name, priority, group id
    (1, "wrong_answer", 0, 1), (2, "good_answer", 1, 1), (3, "delivery", 0, 2), (4, "payment", 1, 2),
    (5, "returns", 2, 2),
)
EXPERIMENTS = (  # key, description, status, branches
    ("greeting-test", "A/B test of the greeting", "RUNNING", (("A", "Short greeting"), ("B", "Long greeting"))),
    ("menu-2024", "New main menu", "STOPPED", (("control", "Old menu"), ("new", "New menu"))),
)
CITIES = ("Москва", "Санкт-Петербург", "Казань", "London", "Berlin", "Новосибирск")
UTM_SOURCES = ("google", "yandex", "direct", "vk_ads", "newsletter")
