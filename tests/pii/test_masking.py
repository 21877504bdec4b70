"""The masking step on both shapes items take on their way to dlt: pages of dict records with the API's field
names, and the Arrow tables the sources build for the volume tables (with the sources' own Arrow shapes)."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import dlt
import pyarrow as pa
import pytest

from emulators.conpeek import vocab
from pipelines.pii import apply_pii
from pipelines.pii.masking import Masker
from pipelines.pii.rules import RULES
from sources.helpcrunch.client import MESSAGE_SHAPE as HELPCRUNCH_MESSAGES
from sources.jaicp.client import message_items

KEY = b"test-key-0123456789abcdef0123456"


def jaicp_message(i: int, question: str, answer: str, client: str) -> dict[str, Any]:
    return {"questionId": f"q{i}", "sessionId": "s1", "projectShortName": "p", "channelType": "whatsapp",
            "botId": "b", "client": {"id": client, "firstName": "Jan"}, "timestamp": "2024-05-01T10:00:00Z",
            "question": question, "textAnswer": answer, "requestData": {"phone": "+48 600 700 800", "n": 48600700800},
            "labels": [{"id": 1, "name": "vip", "priority": 1}]}


def test_dicts_and_arrow_tables_of_the_same_records_are_masked_alike() -> None:
    records = [jaicp_message(1, "Мой номер +7 912 345-67-89", "Записал, спасибо", "79123456789"),
               jaicp_message(2, "Где мой заказ №12345?", "Назовите номер заказа", "447911123456"),
               jaicp_message(3, "mail: jan@wp.pl", "OK", "79123456789")]
    masker = Masker(RULES["jaicp"], KEY)
    as_dicts = [masker.item(record, "messages") for record in records]
    root, *nested = message_items([dict(r) for r in records])
    assert isinstance(root, pa.Table) and nested  # the source's Arrow path, labels as a nested table
    as_arrow = masker.item(root, "messages").to_pylist()
    for d, a in zip(as_dicts, as_arrow, strict=True):
        assert (d["question"], d["textAnswer"], d["client"]["id"]) == (a["question"], a["text_answer"], a["client__id"])
        assert json.loads(a["request_data"]) == d["requestData"]
    assert [d["question"] for d in as_dicts] == ["Мой номер [phone]", "Где мой заказ №12345?", "mail: [email]"]
    assert as_dicts[0]["client"]["id"] == as_dicts[2]["client"]["id"] != as_dicts[1]["client"]["id"]
    assert as_dicts[0]["requestData"] == {"phone": "[phone]", "n": 48600700800}  # strings only; numbers stay
    assert records[0]["question"] == "Мой номер +7 912 345-67-89"  # the source's record is never changed in place
    assert as_dicts[1]["client"]["firstName"] == "Jan"


def test_nested_objects_and_child_lists_of_dict_records() -> None:
    chat = {"id": 7, "status": "opened", "lastMessageText": "pisz: zofia@wp.pl", "rating": None,
            "customer": {"id": 1, "email": "Zofia@WP.pl", "name": "Zofia"}, "assignee": {"id": 3, "email": None},
            "agents": [{"id": 3, "email": "lisa@company.example"}, {"id": 4, "email": None}]}
    masked = Masker(RULES["helpcrunch"], KEY).item(chat, "chats")
    assert masked["lastMessageText"] == "pisz: [email]"
    assert masked["customer"]["email"].startswith("pii:") and masked["customer"]["name"] == "Zofia"
    assert masked["agents"][0]["email"].startswith("pii:") and masked["agents"][1] is chat["agents"][1]
    assert masked["assignee"] is chat["assignee"]


def test_items_without_personal_data_pass_unchanged() -> None:
    masker = Masker(RULES["helpcrunch"], KEY)
    record = {"id": 1, "text": "Dzień dobry! W czym mogę pomóc? 🙂", "chat": 5}
    assert masker.item(record, "messages") is record
    table = HELPCRUNCH_MESSAGES.table([{**record, "createdAt": 1714557600}])
    assert masker.item(table, "messages") is table
    assert masker.item(table, "departments") is table  # a table without rules


def test_arrow_fields_keep_their_type_and_nullability() -> None:
    records = [{"id": i, "text": t, "chat": 5, "createdAt": 1714557600} for i, t in
               enumerate(["hi", "karta 4111-1111-1111-1111", None])]
    table = HELPCRUNCH_MESSAGES.table(records)
    masked = Masker(RULES["helpcrunch"], KEY).item(table, "messages")
    assert masked.schema == table.schema
    assert masked.column("text").to_pylist() == ["hi", "karta [card]", None]
    assert masked.column("_dlt_id").to_pylist() == table.column("_dlt_id").to_pylist()


def test_apply_pii_adds_one_map_step_to_a_built_source() -> None:
    @dlt.source(name="conpeek")
    def conpeek() -> Any:
        @dlt.resource(name="messages")
        def messages() -> Any:
            yield [{"id": "a", "text": "tel 600 700 800", "peer_identifier": "48600700800"}]
            yield pa.table({"id": ["b"], "text": ["mail ewa@o2.pl"], "peer_identifier": ["ewa@o2.pl"]})

        @dlt.resource(name="conversation_statistics_opened")
        def opened() -> Any:
            yield dlt.mark.with_table_name([{"id": "c", "peer_identifier": "+48 600 700 800"}], "side_table")
            yield [{"id": "d", "peer_identifier": "+48 600 700 800", "subject": "RE: 600 700 800"}]

        return messages, opened

    masked = apply_pii(conpeek(), "mask", KEY)
    rows = list(masked.resources["messages"])
    assert rows[0]["text"] == "tel [phone]" and rows[1].column("text").to_pylist() == ["mail [email]"]
    opened = list(masked.resources["conversation_statistics_opened"])
    assert opened[0]["peer_identifier"] == "+48 600 700 800"  # another table (its meta): no rules there
    assert opened[1]["peer_identifier"] == rows[0]["peer_identifier"]  # one contact, one hash, either shape
    assert opened[1]["subject"] == "RE: [phone]"
    kept = apply_pii(conpeek(), "keep", KEY)
    assert next(iter(kept.resources["messages"]))["text"] == "tel 600 700 800"


def test_a_million_arrow_messages_are_masked_in_seconds() -> None:
    """The prefilter runs in Arrow; Python sees only candidates (here ~4 %: Conpeek's one text with a number)."""
    rng = random.Random(7)
    rows = 1_000_000
    texts = pa.array([f"{rng.choice(vocab.TEXTS)} (#{i})" for i in range(rows)])
    table = pa.table({"id": pa.array(range(rows)), "text": texts})
    started = time.perf_counter()
    masked = Masker(RULES["conpeek"], KEY).item(table, "messages")
    seconds = time.perf_counter() - started
    changed = sum(1 for a, b in zip(masked.column("text").to_pylist(), texts.to_pylist(), strict=True) if a != b)
    assert 0.02 * rows < changed < 0.08 * rows
    assert seconds < 20, f"{seconds:.1f} s for a million messages"


@pytest.mark.parametrize("mode", ["hide", "MASKED"])
def test_a_bad_mode_is_one_line_naming_the_variable(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.errors import UserError

    monkeypatch.setenv("WAREHOUSE__PII", mode)
    with pytest.raises(UserError, match=r"^WAREHOUSE__PII=.* is not a personal-data mode; use mask"):
        apply_pii(dlt.source(name="conpeek")(lambda: [])())
