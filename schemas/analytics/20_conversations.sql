-- analytics.conversations: one row per HelpCrunch chat, JAICP session and Conpeek conversation,
-- key (source, conversation_id). The columns a conversation record holds come from conversations/<source>.sql;
-- everything counted from messages is computed here, once, from analytics.messages, the same way for every
-- source. Counted messages: sender_kind customer, agent or bot, and not internal (system messages and
-- private notes are never counted). `day` and the *_local columns are in WAREHOUSE__TIMEZONE;
-- started_at stays UTC. Definitions: docs/analytics.md.
WITH counted AS (
    SELECT source, conversation_id, message_id, sent_at, sender_kind, agent_id
    FROM analytics.messages
    WHERE sender_kind IN ('customer', 'agent', 'bot') AND NOT is_internal AND conversation_id IS NOT NULL
),
first_customer AS (
    SELECT source, conversation_id, MIN(sent_at) AS first_customer_message_at
    FROM counted
    WHERE sender_kind = 'customer'
    GROUP BY source, conversation_id
),
stats AS (
    SELECT
        m.source,
        m.conversation_id,
        COUNT(*) AS message_count,
        COUNT(*) FILTER (WHERE m.sender_kind = 'customer') AS customer_message_count,
        COUNT(*) FILTER (WHERE m.sender_kind = 'agent') AS agent_message_count,
        COUNT(*) FILTER (WHERE m.sender_kind = 'bot') AS bot_message_count,
        MIN(m.sent_at) AS first_message_at,
        MAX(m.sent_at) AS last_message_at,
        f.first_customer_message_at,
        MIN(m.sent_at) FILTER (WHERE m.sender_kind IN ('agent', 'bot')
                                 AND m.sent_at >= f.first_customer_message_at) AS first_response_at,
        MIN(m.sent_at) FILTER (WHERE m.sender_kind = 'agent'
                                 AND m.sent_at >= f.first_customer_message_at) AS first_agent_response_at,
        MIN(m.sent_at) FILTER (WHERE m.sender_kind = 'bot') AS first_bot_message_at,
        MAX(m.sent_at) FILTER (WHERE m.sender_kind = 'agent') AS last_agent_message_at
    FROM counted AS m
    LEFT JOIN first_customer AS f ON f.source = m.source AND f.conversation_id = m.conversation_id
    GROUP BY m.source, m.conversation_id, f.first_customer_message_at
),
first_agent AS (
    SELECT source, conversation_id, agent_id
    FROM (
        SELECT
            source,
            conversation_id,
            agent_id,
            ROW_NUMBER() OVER (PARTITION BY source, conversation_id ORDER BY sent_at, message_id) AS n
        FROM counted
        WHERE sender_kind = 'agent' AND agent_id IS NOT NULL
    ) AS a
    WHERE n = 1
)
SELECT
    c.source,
    c.conversation_id,
    c.channel,
    c.customer_id,
    COALESCE(c.agent_id, a.agent_id) AS agent_id,
    c.department_id,
    c.started_at,
    c.closed_at,
    c.status,
    c.status_raw,
    COALESCE(s.message_count, 0) AS message_count,
    COALESCE(s.customer_message_count, 0) AS customer_message_count,
    COALESCE(s.agent_message_count, 0) AS agent_message_count,
    COALESCE(s.bot_message_count, 0) AS bot_message_count,
    c.rating,
    (COALESCE(c.handover_reported, FALSE)
        OR COALESCE(s.last_agent_message_at >= s.first_bot_message_at, FALSE)) AS handed_over_to_human,
    s.first_message_at,
    s.last_message_at,
    s.first_customer_message_at,
    s.first_response_at,
    CAST(EXTRACT(EPOCH FROM (s.first_response_at - s.first_customer_message_at)) AS DOUBLE PRECISION)
        AS first_response_seconds,
    CAST(EXTRACT(EPOCH FROM (s.first_agent_response_at - s.first_customer_message_at)) AS DOUBLE PRECISION)
        AS first_agent_response_seconds,
    CAST(EXTRACT(EPOCH FROM (c.closed_at - c.started_at)) AS DOUBLE PRECISION) AS resolution_seconds,
    c.started_at AT TIME ZONE {{ timezone }} AS started_at_local,
    CAST(c.started_at AT TIME ZONE {{ timezone }} AS DATE) AS day,
    CAST(EXTRACT(HOUR FROM c.started_at AT TIME ZONE {{ timezone }}) AS INTEGER) AS hour_local
FROM {{ parts.conversations }} AS c
LEFT JOIN stats AS s ON s.source = c.source AND s.conversation_id = c.conversation_id
LEFT JOIN first_agent AS a ON a.source = c.source AND a.conversation_id = c.conversation_id
