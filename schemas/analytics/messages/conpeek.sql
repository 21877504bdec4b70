-- analytics.messages, Conpeek part: one row per message statistics record (conpeek.messages).
-- Inbound records are the customer's, outbound ones the agent's (tenant user); a record with another or no
-- direction is a system message. Conpeek has no bots.
SELECT
    CAST('conpeek' AS VARCHAR) AS source,
    CAST(m.id AS VARCHAR) AS message_id,
    CAST(m.conversation_id AS VARCHAR) AS conversation_id,
    m.ts AS sent_at,
    CAST(CASE
        WHEN lower(m.direction) IN ('in', 'inbound', 'incoming') THEN 'customer'
        WHEN lower(m.direction) IN ('out', 'outbound', 'outgoing') THEN 'agent'
        ELSE 'system'
    END AS VARCHAR) AS sender_kind,
    CAST(CASE WHEN lower(m.direction) IN ('out', 'outbound', 'outgoing') THEN m.tenant_user_id END AS VARCHAR)
        AS agent_id,
    CAST(m.message_type AS VARCHAR) AS channel,
    CAST(m.message_type AS VARCHAR) AS message_type,
    FALSE AS is_internal,
    CAST(m.text AS VARCHAR) AS text
FROM conpeek.messages AS m
