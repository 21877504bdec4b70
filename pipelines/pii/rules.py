"""Which columns hold personal data, per source and table, and what ``WAREHOUSE__PII=mask`` does to each.

Columns are named as in the warehouse (dlt's snake_case, nested objects flattened with ``__``, child tables
``<table>__<list>``); a dict record's fields are matched to them the same way. The kinds:

- ``TEXT``: free text; e-mail addresses, phone numbers and card numbers inside it are masked
  (``[email]``, ``[phone]``, ``[card]``; see :mod:`pipelines.pii.text`);
- ``JSON``: a JSON value (object, list or its text); every string inside it is masked as ``TEXT``;
- ``CONTACT``: a contact identifier (e-mail address, phone number, a client id that may be a phone number); the
  whole value becomes a keyed hash (:mod:`pipelines.pii.keys`), equal for equal contacts, so joins and
  distinct counts still work.

Everything not listed is loaded as it is (names, ids, the tenant's own channel numbers and mailboxes).
"""

from __future__ import annotations

TEXT, JSON, CONTACT = "text", "json", "contact"
Rules = dict[str, dict[str, str]]  # table -> column -> kind

# Regions whose national formats a phone number without "+" is read in (the tenants' countries: Poland,
# Ukraine, Russia/Kazakhstan, the United Kingdom). Numbers with "+" or an international prefix are read anywhere.
PHONE_REGIONS = ("PL", "UA", "RU", "GB")

RULES: dict[str, Rules] = {
    "helpcrunch": {
        "chats": {"customer__email": CONTACT, "assignee__email": CONTACT, "last_message_text": TEXT},
        "chats__agents": {"email": CONTACT},
        "messages": {"text": TEXT},
        "customers": {"email": CONTACT, "phone": CONTACT, "notes": TEXT, "last_page": TEXT, "referer": TEXT,
                      "custom_data__last_invoice_url": TEXT},
        "agents": {"email": CONTACT},
        "departments__agents": {"email": CONTACT},
    },
    "conpeek": {
        "conversation_statistics_opened": {"peer_identifier": CONTACT, "subject": TEXT},
        "messages": {"peer_identifier": CONTACT, "text": TEXT},
    },
    "jaicp": {
        "sessions": {"client__id": CONTACT, "first_question": TEXT, "last_question": TEXT, "session_data": JSON,
                     "custom_fields": JSON, "response_data": JSON},
        "messages": {"client__id": CONTACT, "question": TEXT, "text_answer": TEXT, "comment": TEXT,
                     "request_data": JSON, "data": JSON, "response_data": JSON, "utterances_json": JSON},
        "clients": {"id": CONTACT, "block_reason": TEXT},
    },
}
