"""A small hand-made warehouse (real table and column names, only the columns the views read) and the
analytics rows and KPIs computed by hand from it. Portable SQL: the same statements build it in DuckDB and
PostgreSQL, so one set of expectations checks both.

HelpCrunch (day 2024-05-01 unless said):
  chat 1  customer 501, assignee 7, closed 12:00, rated great. 10:00:00 customer; 10:00:30 tech (system);
          10:01 private note (internal); 10:02 agent 7 (first response 120 s); 10:05 customer; 10:06 agent 8.
  chat 2  customer 502, no assignee, status opened with a stale closed_at. 11:00:00 trigger broadcast (bot);
          11:00:10 customer; 11:10:10 agent 8 (first response 600 s; a human after the bot: handed over).
  chat 3  2024-05-02, customer 501, assignee 7, closed after 1 h, rated poor. 09:00 customer; 09:00:30 agent 7.
  chat 4  23:30 UTC, customer 503, assignee 7, status new, rated average, no messages.
Conpeek:
  c1      opened 08:00 (sms, peer 48111) and again 09:00 (ignored). 08:00:00 in; 08:01:40 out user 120
          (first response 100 s); 08:02 in; 08:03 a record with no direction (system).
  o3      no conversation_id, opened 2024-05-02 02:00+02 (= 00:00 UTC), email, user 130, no messages.
JAICP:
  s1      telegram, client k1, 12:00. q1 12:00:00 hi/hello; q2 12:00:20 price?/answer; q3 12:01 event, answer only.
  s2      chatwidget, client k2, 13:00, livechat. q4 13:00:00 operator/connecting (bot); q5 13:02 hello?/answer by
          operator op1 (first agent response 120 s).
  s3      telegram, client k1, 14:00, livechat, one phrase with an empty answer (transferred, nobody answered).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

SETUP = [
    "CREATE SCHEMA helpcrunch",
    "CREATE SCHEMA conpeek",
    "CREATE SCHEMA jaicp",
    """CREATE TABLE helpcrunch.chats (id BIGINT, status VARCHAR, created_at TIMESTAMP WITH TIME ZONE,
        closed_at TIMESTAMP WITH TIME ZONE, customer__id BIGINT, assignee__id BIGINT,
        last_communicated_agent_id BIGINT, rating VARCHAR)""",
    """INSERT INTO helpcrunch.chats VALUES
        (1, 'closed', '2024-05-01 10:00:00+00', '2024-05-01 12:00:00+00', 501, 7, 7, 'great'),
        (2, 'opened', '2024-05-01 11:00:00+00', '2024-05-01 11:30:00+00', 502, NULL, NULL, NULL),
        (3, 'closed', '2024-05-02 09:00:00+00', '2024-05-02 10:00:00+00', 501, 7, 7, 'Poor'),
        (4, 'new', '2024-05-01 23:30:00+00', NULL, 503, 7, NULL, 'average')""",
    """CREATE TABLE helpcrunch.messages (id BIGINT, chat BIGINT, created_at TIMESTAMP WITH TIME ZONE, type VARCHAR,
        "from" VARCHAR, agent__id BIGINT, broadcast_type VARCHAR, text VARCHAR)""",
    """INSERT INTO helpcrunch.messages VALUES
        (101, 1, '2024-05-01 10:00:00+00', 'message', 'customer', NULL, NULL, 'hi'),
        (102, 1, '2024-05-01 10:00:30+00', 'tech', 'agent', NULL, NULL, 'request_rating'),
        (103, 1, '2024-05-01 10:01:00+00', 'private', 'agent', 7, NULL, 'note to self'),
        (104, 1, '2024-05-01 10:02:00+00', 'message', 'agent', 7, NULL, 'hello'),
        (105, 1, '2024-05-01 10:05:00+00', 'message', 'customer', NULL, NULL, 'thanks'),
        (106, 1, '2024-05-01 10:06:00+00', 'message', 'agent', 8, NULL, 'bye'),
        (201, 2, '2024-05-01 11:00:00+00', 'message', 'agent', 7, 'auto chat', 'can we help?'),
        (202, 2, '2024-05-01 11:00:10+00', 'message', 'customer', NULL, NULL, 'yes'),
        (203, 2, '2024-05-01 11:10:10+00', 'message', 'agent', 8, NULL, 'here I am'),
        (301, 3, '2024-05-02 09:00:00+00', 'message', 'customer', NULL, NULL, 'again'),
        (302, 3, '2024-05-02 09:00:30+00', 'email', 'agent', 7, NULL, 'answer by email')""",
    """CREATE TABLE conpeek.conversation_statistics_opened (id VARCHAR, ts TIMESTAMP WITH TIME ZONE,
        conversation_type VARCHAR, conversation_id VARCHAR, peer_identifier VARCHAR, tenant_user_id BIGINT)""",
    """INSERT INTO conpeek.conversation_statistics_opened VALUES
        ('o1', '2024-05-01 08:00:00+00', 'sms', 'c1', '48111', NULL),
        ('o2', '2024-05-01 09:00:00+00', 'sms', 'c1', '48111', 120),
        ('o3', '2024-05-02 02:00:00+02', 'email', NULL, 'a@example.com', 130)""",
    """CREATE TABLE conpeek.messages (id VARCHAR, ts TIMESTAMP WITH TIME ZONE, conversation_id VARCHAR,
        message_type VARCHAR, direction VARCHAR, tenant_user_id BIGINT, text VARCHAR)""",
    """INSERT INTO conpeek.messages VALUES
        ('m1', '2024-05-01 08:00:00+00', 'c1', 'sms', 'in', NULL, 'czesc'),
        ('m2', '2024-05-01 08:01:40+00', 'c1', 'sms', 'out', 120, 'dzien dobry'),
        ('m3', '2024-05-01 08:02:00+00', 'c1', 'sms', 'in', NULL, 'dziekuje'),
        ('m4', '2024-05-01 08:03:00+00', 'c1', 'sms', NULL, NULL, 'delivery report')""",
    """CREATE TABLE jaicp.sessions (session_id VARCHAR, channel_type VARCHAR, client__id VARCHAR,
        start_time TIMESTAMP WITH TIME ZONE, session_result VARCHAR, is_livechat BOOLEAN)""",
    """INSERT INTO jaicp.sessions VALUES
        ('s1', 'telegram', 'k1', '2024-05-01 12:00:00+00', 'ok', FALSE),
        ('s2', 'chatwidget', 'k2', '2024-05-01 13:00:00+00', NULL, TRUE),
        ('s3', 'telegram', 'k1', '2024-05-01 14:00:00+00', NULL, TRUE)""",
    """CREATE TABLE jaicp.messages (question_id VARCHAR, session_id VARCHAR, "timestamp" TIMESTAMP WITH TIME ZONE,
        question VARCHAR, text_answer VARCHAR, operator_info__id VARCHAR)""",
    """INSERT INTO jaicp.messages VALUES
        ('q1', 's1', '2024-05-01 12:00:00+00', 'hi', 'hello', NULL),
        ('q2', 's1', '2024-05-01 12:00:20+00', 'price?', 'ten', NULL),
        ('q3', 's1', '2024-05-01 12:01:00+00', NULL, 'bye', NULL),
        ('q4', 's2', '2024-05-01 13:00:00+00', 'operator', 'connecting', NULL),
        ('q5', 's2', '2024-05-01 13:02:00+00', 'hello?', 'Hi, Anna here', 'op1'),
        ('q6', 's3', '2024-05-01 14:00:00+00', 'help', '', NULL)""",
]

MESSAGE_COLUMNS = "source, message_id, conversation_id, sender_kind, agent_id, channel, message_type, is_internal"
MESSAGES = {  # (source, message_id) -> (conversation_id, sender_kind, agent_id, channel, message_type, is_internal)
    ("helpcrunch", "101"): ("1", "customer", None, "chat", "message", False),
    ("helpcrunch", "102"): ("1", "system", None, "chat", "tech", False),
    ("helpcrunch", "103"): ("1", "agent", "7", "chat", "private", True),
    ("helpcrunch", "104"): ("1", "agent", "7", "chat", "message", False),
    ("helpcrunch", "105"): ("1", "customer", None, "chat", "message", False),
    ("helpcrunch", "106"): ("1", "agent", "8", "chat", "message", False),
    ("helpcrunch", "201"): ("2", "bot", "7", "chat", "message", False),
    ("helpcrunch", "202"): ("2", "customer", None, "chat", "message", False),
    ("helpcrunch", "203"): ("2", "agent", "8", "chat", "message", False),
    ("helpcrunch", "301"): ("3", "customer", None, "chat", "message", False),
    ("helpcrunch", "302"): ("3", "agent", "7", "chat", "email", False),
    ("conpeek", "m1"): ("c1", "customer", None, "sms", "sms", False),
    ("conpeek", "m2"): ("c1", "agent", "120", "sms", "sms", False),
    ("conpeek", "m3"): ("c1", "customer", None, "sms", "sms", False),
    ("conpeek", "m4"): ("c1", "system", None, "sms", "sms", False),
    ("jaicp", "q1:question"): ("s1", "customer", None, "telegram", "question", False),
    ("jaicp", "q1:answer"): ("s1", "bot", None, "telegram", "answer", False),
    ("jaicp", "q2:question"): ("s1", "customer", None, "telegram", "question", False),
    ("jaicp", "q2:answer"): ("s1", "bot", None, "telegram", "answer", False),
    ("jaicp", "q3:answer"): ("s1", "bot", None, "telegram", "answer", False),
    ("jaicp", "q4:question"): ("s2", "customer", None, "chatwidget", "question", False),
    ("jaicp", "q4:answer"): ("s2", "bot", None, "chatwidget", "answer", False),
    ("jaicp", "q5:question"): ("s2", "customer", None, "chatwidget", "question", False),
    ("jaicp", "q5:answer"): ("s2", "agent", "op1", "chatwidget", "answer", False),
    ("jaicp", "q6:question"): ("s3", "customer", None, "telegram", "question", False),
}

CONVERSATION_COLUMNS = ("channel, customer_id, agent_id, status, message_count, customer_message_count, "
                        "agent_message_count, bot_message_count, rating, handed_over_to_human, "
                        "first_response_seconds, first_agent_response_seconds, resolution_seconds")
CONVERSATIONS = {  # (source, conversation_id) -> the CONVERSATION_COLUMNS
    ("helpcrunch", "1"): ("chat", "501", "7", "closed", 4, 2, 2, 0, "great", False, 120.0, 120.0, 7200.0),
    ("helpcrunch", "2"): ("chat", "502", "8", "opened", 3, 1, 1, 1, None, True, 600.0, 600.0, None),
    ("helpcrunch", "3"): ("chat", "501", "7", "closed", 2, 1, 1, 0, "poor", False, 30.0, 30.0, 3600.0),
    ("helpcrunch", "4"): ("chat", "503", "7", "new", 0, 0, 0, 0, "average", False, None, None, None),
    ("conpeek", "c1"): ("sms", "48111", "120", None, 3, 2, 1, 0, None, False, 100.0, 100.0, None),
    ("conpeek", "o3"): ("email", "a@example.com", "130", None, 0, 0, 0, 0, None, False, None, None, None),
    ("jaicp", "s1"): ("telegram", "k1", None, "ok", 5, 2, 0, 3, None, False, 0.0, None, None),
    ("jaicp", "s2"): ("chatwidget", "k2", "op1", None, 4, 2, 1, 1, None, True, 0.0, 120.0, None),
    ("jaicp", "s3"): ("telegram", "k1", None, None, 1, 1, 0, 0, None, True, None, None, None),
}

KPI_COLUMNS = ("conversations, messages, unique_customers, median_first_response_seconds, "
               "p90_first_response_seconds, median_first_agent_response_seconds, median_resolution_seconds, "
               "closed_conversations, ratings_great, ratings_average, ratings_poor, bot_conversations, "
               "handed_over_conversations, handoff_rate")
D1, D2 = date(2024, 5, 1), date(2024, 5, 2)
KPIS = {  # (day, source, channel, all_agents, agent_id) -> the KPI_COLUMNS
    # chats 1, 2, 4: first responses 120 and 600 -> median 360, p90 120 + 0.9 * 480 = 552
    (D1, "helpcrunch", "chat", True, None): (3, 7, 3, 360.0, 552.0, 360.0, 7200.0, 1, 1, 1, 0, 1, 1, 1.0),
    (D1, "helpcrunch", "chat", False, "7"): (2, 4, 2, 120.0, 120.0, 120.0, 7200.0, 1, 1, 1, 0, 0, 0, None),
    (D1, "helpcrunch", "chat", False, "8"): (1, 3, 1, 600.0, 600.0, 600.0, None, 0, 0, 0, 0, 1, 1, 1.0),
    (D2, "helpcrunch", "chat", True, None): (1, 2, 1, 30.0, 30.0, 30.0, 3600.0, 1, 0, 0, 1, 0, 0, None),
    (D2, "helpcrunch", "chat", False, "7"): (1, 2, 1, 30.0, 30.0, 30.0, 3600.0, 1, 0, 0, 1, 0, 0, None),
    (D1, "conpeek", "sms", True, None): (1, 3, 1, 100.0, 100.0, 100.0, None, 0, 0, 0, 0, 0, 0, None),
    (D1, "conpeek", "sms", False, "120"): (1, 3, 1, 100.0, 100.0, 100.0, None, 0, 0, 0, 0, 0, 0, None),
    (D2, "conpeek", "email", True, None): (1, 0, 1, None, None, None, None, 0, 0, 0, 0, 0, 0, None),
    (D2, "conpeek", "email", False, "130"): (1, 0, 1, None, None, None, None, 0, 0, 0, 0, 0, 0, None),
    # s1 and s3 (same client k1): s1 has bot answers, s3 was transferred -> 2 bot conversations, 1 handed over
    (D1, "jaicp", "telegram", True, None): (2, 6, 1, 0.0, 0.0, None, None, 0, 0, 0, 0, 2, 1, 0.5),
    (D1, "jaicp", "telegram", False, None): (2, 6, 1, 0.0, 0.0, None, None, 0, 0, 0, 0, 2, 1, 0.5),
    (D1, "jaicp", "chatwidget", True, None): (1, 4, 1, 0.0, 0.0, 120.0, None, 0, 0, 0, 0, 1, 1, 1.0),
    (D1, "jaicp", "chatwidget", False, "op1"): (1, 4, 1, 0.0, 0.0, 120.0, None, 0, 0, 0, 0, 1, 1, 1.0),
}

QUERIES = {  # view -> (SELECT of the compared columns, how many leading columns are the key)
    "messages": (f"SELECT {MESSAGE_COLUMNS} FROM analytics.messages", 2),
    "conversations": (f"SELECT source, conversation_id, {CONVERSATION_COLUMNS} FROM analytics.conversations", 2),
    "daily_kpis": (f"SELECT day, source, channel, all_agents, agent_id, {KPI_COLUMNS} FROM analytics.daily_kpis", 5),
}


def assert_views_match(fetch: Callable[[str], list[tuple[Any, ...]]]) -> None:
    """Every view row equals the hand-computed one; ``fetch(sql)`` runs a query on the database under test."""
    found = {view: {row[:width]: tuple(row[width:]) for row in fetch(sql)} for view, (sql, width) in QUERIES.items()}
    assert found["messages"] == MESSAGES
    assert found["conversations"] == CONVERSATIONS
    assert set(found["daily_kpis"]) == set(KPIS)
    for key, expected in KPIS.items():
        assert found["daily_kpis"][key] == pytest.approx(expected), (key, KPI_COLUMNS)
