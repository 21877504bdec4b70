"""A small hand-made warehouse (real table and column names, only the columns the views read) and the
analytics rows and KPIs computed by hand from it. Portable SQL: the same statements build it in DuckDB and
PostgreSQL, so one set of expectations checks both.

HelpCrunch (day 2024-05-01 unless said; agents 7 "Anna" and 9 listed, departments 10 and 11 listed):
  chat 1  customer 501, assignee 7, department 10, closed 12:00, rated great. 10:00:00 customer; 10:00:30 tech
          (system); 10:01 private note (internal); 10:02 agent 7 (first response 120 s); 10:05 customer; 10:06
          agent 8.
  chat 2  customer 502, no assignee, status opened with a stale closed_at. 11:00:00 trigger broadcast (bot);
          11:00:10 customer; 11:10:10 agent 8 (first response 600 s; a human after the bot: handed over).
  chat 3  2024-05-02, customer 501, assignee 7, department 11, closed after 1 h, rated poor. 09:00 customer;
          09:00:30 agent 7.
  chat 4  23:30 UTC, customer 503, assignee 7, department 12 (not listed), status new, rated average, no messages.
Conpeek:
  c1      opened 08:00 (sms, peer 48111, project 12) and again 09:00 (ignored, but names the project).
          08:00:00 in; 08:01:40 out user 120 (first response 100 s); 08:02 in; 08:03 a record with no direction.
  o3      no conversation_id, opened 2024-05-02 02:00+02 (= 00:00 UTC), email, user 130, project 15, no messages.
JAICP:
  s1      telegram, client k1, 12:00. q1 12:00:00 hi/hello; q2 12:00:20 price?/answer; q3 12:01 event, answer only.
  s2      chatwidget, client k2, 13:00, livechat. q4 13:00:00 operator/connecting (bot); q5 13:02 hello?/answer by
          operator op1 (first agent response 120 s).
  s3      telegram, client k1, 14:00, livechat, one phrase with an empty answer (transferred, nobody answered).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

LOAD_ID = "1714900000.5"  # dlt's load id: the load's unix time (2024-05-05 09:06:40.5 UTC)
LOADED_AT = datetime(2024, 5, 5, 9, 6, 40, 500000, tzinfo=UTC)
SETUP = [
    "CREATE SCHEMA helpcrunch",
    "CREATE SCHEMA conpeek",
    "CREATE SCHEMA jaicp",
    """CREATE TABLE helpcrunch.chats (id BIGINT, status VARCHAR, created_at TIMESTAMP WITH TIME ZONE,
        closed_at TIMESTAMP WITH TIME ZONE, customer__id BIGINT, assignee__id BIGINT,
        last_communicated_agent_id BIGINT, rating VARCHAR, department__id BIGINT, department__name VARCHAR,
        assignee__name VARCHAR, _dlt_load_id VARCHAR)""",
    """INSERT INTO helpcrunch.chats VALUES
        (1, 'closed', '2024-05-01 10:00:00+00', '2024-05-01 12:00:00+00', 501, 7, 7, 'great', 10, 'Support',
            'Ann', LOAD),
        (2, 'opened', '2024-05-01 11:00:00+00', '2024-05-01 11:30:00+00', 502, NULL, NULL, NULL, NULL, NULL,
            NULL, LOAD),
        (3, 'closed', '2024-05-02 09:00:00+00', '2024-05-02 10:00:00+00', 501, 7, 7, 'Poor', 11, 'Billing old',
            'Ann', LOAD),
        (4, 'new', '2024-05-01 23:30:00+00', NULL, 503, 7, NULL, 'average', 12, 'Sales', 'Ann K.', LOAD)""",
    "CREATE TABLE helpcrunch.agents (id BIGINT, name VARCHAR, role VARCHAR)",
    "INSERT INTO helpcrunch.agents VALUES (7, 'Anna', 'agent'), (9, 'Idle Ivan', 'admin')",
    "CREATE TABLE helpcrunch.departments (id BIGINT, name VARCHAR)",
    "INSERT INTO helpcrunch.departments VALUES (10, 'Support'), (11, 'Billing')",
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
        conversation_type VARCHAR, conversation_id VARCHAR, peer_identifier VARCHAR, tenant_user_id BIGINT,
        project_id BIGINT, project_name VARCHAR)""",
    """INSERT INTO conpeek.conversation_statistics_opened VALUES
        ('o1', '2024-05-01 08:00:00+00', 'sms', 'c1', '48111', NULL, 12, 'Obsluga'),
        ('o2', '2024-05-01 09:00:00+00', 'sms', 'c1', '48111', 120, 12, 'Obsluga Klienta'),
        ('o3', '2024-05-02 02:00:00+02', 'email', NULL, 'a@example.com', 130, 15, 'Reklamacje')""",
    """CREATE TABLE conpeek.messages (id VARCHAR, ts TIMESTAMP WITH TIME ZONE, conversation_id VARCHAR,
        message_type VARCHAR, direction VARCHAR, tenant_user_id BIGINT, text VARCHAR)""",
    """INSERT INTO conpeek.messages VALUES
        ('m1', '2024-05-01 08:00:00+00', 'c1', 'sms', 'in', NULL, 'czesc'),
        ('m2', '2024-05-01 08:01:40+00', 'c1', 'sms', 'out', 120, 'dzien dobry'),
        ('m3', '2024-05-01 08:02:00+00', 'c1', 'sms', 'in', NULL, 'dziekuje'),
        ('m4', '2024-05-01 08:03:00+00', 'c1', 'sms', NULL, NULL, 'delivery report')""",
    """CREATE TABLE jaicp.sessions (session_id VARCHAR, channel_type VARCHAR, client__id VARCHAR,
        start_time TIMESTAMP WITH TIME ZONE, session_result VARCHAR, is_livechat BOOLEAN, _dlt_load_id VARCHAR)""",
    """INSERT INTO jaicp.sessions VALUES
        ('s1', 'telegram', 'k1', '2024-05-01 12:00:00+00', 'ok', FALSE, LOAD),
        ('s2', 'chatwidget', 'k2', '2024-05-01 13:00:00+00', NULL, TRUE, LOAD),
        ('s3', 'telegram', 'k1', '2024-05-01 14:00:00+00', NULL, TRUE, LOAD)""",
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

SETUP = [statement.replace("LOAD)", f"'{LOAD_ID}')") for statement in SETUP]
VIEWS = ["messages", "conversations", "daily_kpis", "agents", "departments", "daily_csat", "daily_backlog",
         "status_history", "status_time", "reopened_conversations", "settings"]
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

CONVERSATION_COLUMNS = ("channel, customer_id, agent_id, department_id, status, status_raw, message_count, "
                        "customer_message_count, agent_message_count, bot_message_count, rating, handed_over_to_human, "
                        "first_response_seconds, first_agent_response_seconds, resolution_seconds")
CONVERSATIONS = {  # (source, conversation_id) -> the CONVERSATION_COLUMNS
    ("helpcrunch", "1"): ("chat", "501", "7", "10", "closed", "closed", 4, 2, 2, 0, "great", False, 120.0, 120.0,
                          7200.0),
    ("helpcrunch", "2"): ("chat", "502", "8", None, "open", "opened", 3, 1, 1, 1, None, True, 600.0, 600.0, None),
    ("helpcrunch", "3"): ("chat", "501", "7", "11", "closed", "closed", 2, 1, 1, 0, "poor", False, 30.0, 30.0,
                          3600.0),
    ("helpcrunch", "4"): ("chat", "503", "7", "12", "new", "new", 0, 0, 0, 0, "average", False, None, None, None),
    ("conpeek", "c1"): ("sms", "48111", "120", "12", None, None, 3, 2, 1, 0, None, False, 100.0, 100.0, None),
    ("conpeek", "o3"): ("email", "a@example.com", "130", "15", None, None, 0, 0, 0, 0, None, False, None, None,
                        None),
    ("jaicp", "s1"): ("telegram", "k1", None, None, None, "ok", 5, 2, 0, 3, None, False, 0.0, None, None),
    ("jaicp", "s2"): ("chatwidget", "k2", "op1", None, None, None, 4, 2, 1, 1, None, True, 0.0, 120.0, None),
    ("jaicp", "s3"): ("telegram", "k1", None, None, None, None, 1, 1, 0, 0, None, True, None, None, None),
}

KPI_COLUMNS = ("conversations, messages, unique_customers, median_first_response_seconds, "
               "p90_first_response_seconds, median_first_agent_response_seconds, median_resolution_seconds, "
               "closed_conversations, ratings_great, ratings_average, ratings_poor, bot_conversations, "
               "handed_over_conversations, handoff_rate, rated_conversations, csat_share")
D1, D2 = date(2024, 5, 1), date(2024, 5, 2)
KPIS = {  # (day, source, channel, all_agents, agent_id) -> the KPI_COLUMNS
    # chats 1, 2, 4: first responses 120 and 600 -> median 360, p90 120 + 0.9 * 480 = 552
    (D1, "helpcrunch", "chat", True, None): (3, 7, 3, 360.0, 552.0, 360.0, 7200.0, 1, 1, 1, 0, 1, 1, 1.0, 2, 0.5),
    (D1, "helpcrunch", "chat", False, "7"): (2, 4, 2, 120.0, 120.0, 120.0, 7200.0, 1, 1, 1, 0, 0, 0, None, 2, 0.5),
    (D1, "helpcrunch", "chat", False, "8"): (1, 3, 1, 600.0, 600.0, 600.0, None, 0, 0, 0, 0, 1, 1, 1.0, 0, None),
    (D2, "helpcrunch", "chat", True, None): (1, 2, 1, 30.0, 30.0, 30.0, 3600.0, 1, 0, 0, 1, 0, 0, None, 1, 0.0),
    (D2, "helpcrunch", "chat", False, "7"): (1, 2, 1, 30.0, 30.0, 30.0, 3600.0, 1, 0, 0, 1, 0, 0, None, 1, 0.0),
    (D1, "conpeek", "sms", True, None): (1, 3, 1, 100.0, 100.0, 100.0, None, 0, 0, 0, 0, 0, 0, None, 0, None),
    (D1, "conpeek", "sms", False, "120"): (1, 3, 1, 100.0, 100.0, 100.0, None, 0, 0, 0, 0, 0, 0, None, 0, None),
    (D2, "conpeek", "email", True, None): (1, 0, 1, None, None, None, None, 0, 0, 0, 0, 0, 0, None, 0, None),
    (D2, "conpeek", "email", False, "130"): (1, 0, 1, None, None, None, None, 0, 0, 0, 0, 0, 0, None, 0, None),
    # s1 and s3 (same client k1): s1 has bot answers, s3 was transferred -> 2 bot conversations, 1 handed over
    (D1, "jaicp", "telegram", True, None): (2, 6, 1, 0.0, 0.0, None, None, 0, 0, 0, 0, 2, 1, 0.5, 0, None),
    (D1, "jaicp", "telegram", False, None): (2, 6, 1, 0.0, 0.0, None, None, 0, 0, 0, 0, 2, 1, 0.5, 0, None),
    (D1, "jaicp", "chatwidget", True, None): (1, 4, 1, 0.0, 0.0, 120.0, None, 0, 0, 0, 0, 1, 1, 1.0, 0, None),
    (D1, "jaicp", "chatwidget", False, "op1"): (1, 4, 1, 0.0, 0.0, 120.0, None, 0, 0, 0, 0, 1, 1, 1.0, 0, None),
}

AGENTS = {  # (source, agent_id) -> (agent_name, agent_role, listed)
    ("helpcrunch", "7"): ("Anna", "agent", True),  # the list's name wins over the chats' 'Ann', 'Ann K.'
    ("helpcrunch", "9"): ("Idle Ivan", "admin", True),  # listed, never in a conversation
    ("helpcrunch", "8"): (None, None, False),  # wrote messages, in no list, never an assignee
    ("conpeek", "120"): (None, None, False),
    ("conpeek", "130"): (None, None, False),
    ("jaicp", "op1"): (None, None, False),  # no operator name columns loaded
}
DEPARTMENTS = {  # (source, department_id) -> (department_name, listed)
    ("helpcrunch", "10"): ("Support", True),
    ("helpcrunch", "11"): ("Billing", True),  # the list's name wins over chat 3's 'Billing old'
    ("helpcrunch", "12"): ("Sales", False),  # named by chat 4 only
    ("conpeek", "12"): ("Obsluga Klienta", False),  # the newest opening record's name
    ("conpeek", "15"): ("Reklamacje", False),
}
CSAT_COLUMNS = "rated_conversations, ratings_great, ratings_average, ratings_poor, csat_share"
DAILY_CSAT = {  # (day, source, department_id, agent_id) -> the CSAT_COLUMNS
    (D1, "helpcrunch", "10", "7"): (1, 1, 0, 0, 1.0),  # chat 1, great
    (D1, "helpcrunch", "12", "7"): (1, 0, 1, 0, 0.0),  # chat 4, average
    (D2, "helpcrunch", "11", "7"): (1, 0, 0, 1, 0.0),  # chat 3, 'Poor'
}
BACKLOG = {  # (day, source) -> (opened, closed, open at the day's end); chats 2 and 4 stay open to this day
    (D1, "helpcrunch"): (3, 1, 2),
    (D2, "helpcrunch"): (1, 1, 2),
}

QUERIES = {  # view -> (SELECT of the compared columns, how many leading columns are the key)
    "messages": (f"SELECT {MESSAGE_COLUMNS} FROM analytics.messages", 2),
    "conversations": (f"SELECT source, conversation_id, {CONVERSATION_COLUMNS} FROM analytics.conversations", 2),
    "daily_kpis": (f"SELECT day, source, channel, all_agents, agent_id, {KPI_COLUMNS} FROM analytics.daily_kpis", 5),
    "agents": ("SELECT source, agent_id, agent_name, agent_role, listed FROM analytics.agents", 2),
    "departments": ("SELECT source, department_id, department_name, listed FROM analytics.departments", 2),
    "daily_csat": (f"SELECT day, source, department_id, agent_id, {CSAT_COLUMNS} FROM analytics.daily_csat", 4),
    "daily_backlog": ("SELECT day, source, opened_conversations, closed_conversations, open_conversations "
                      "FROM analytics.daily_backlog", 2),
}


def assert_views_match(fetch: Callable[[str], list[tuple[Any, ...]]]) -> None:
    """Every view row equals the hand-computed one; ``fetch(sql)`` runs a query on the database under test."""
    found = {view: {row[:width]: tuple(row[width:]) for row in fetch(sql)} for view, (sql, width) in QUERIES.items()}
    assert found["messages"] == MESSAGES
    assert found["conversations"] == CONVERSATIONS
    assert found["agents"] == AGENTS
    assert found["departments"] == DEPARTMENTS
    assert found["daily_csat"] == DAILY_CSAT
    backlog = found["daily_backlog"]
    assert {key: backlog[key] for key in BACKLOG} == BACKLOG
    later = [value for (day, _), value in backlog.items() if day > D2]
    assert {source for _, source in backlog} == {"helpcrunch"}  # the one source that records closing
    assert len(backlog) == 2 + len(later) and later and set(later) == {(0, 0, 2)}  # every day up to today
    assert set(found["daily_kpis"]) == set(KPIS)
    for key, expected in KPIS.items():
        assert found["daily_kpis"][key] == pytest.approx(expected), (key, KPI_COLUMNS)
