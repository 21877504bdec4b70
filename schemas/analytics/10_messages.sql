-- analytics.messages: one row per message of every source, key (source, message_id).
-- {{ parts.messages }} is the UNION ALL of messages/<source>.sql for the sources whose tables exist.
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
    m.text
FROM {{ parts.messages }} AS m
