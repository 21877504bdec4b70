-- analytics.messages: one row per message of every source, key (source, message_id).
-- {{ parts.messages }} is the UNION ALL of messages/<source>.sql for the sources whose tables exist.
-- {{ timezone }} is WAREHOUSE__TIMEZONE as an SQL string: sent_at stays UTC, the *_local columns are derived.
SELECT
    m.source,
    m.message_id,
    m.conversation_id,
    m.sent_at,
    m.sender_kind,
    m.agent_id,
    m.channel,
    m.message_type,
    m.is_internal,
    m.text,
    m.sent_at AT TIME ZONE {{ timezone }} AS sent_at_local,
    CAST(m.sent_at AT TIME ZONE {{ timezone }} AS DATE) AS day,
    CAST(EXTRACT(HOUR FROM m.sent_at AT TIME ZONE {{ timezone }}) AS INTEGER) AS hour_local
FROM {{ parts.messages }} AS m
