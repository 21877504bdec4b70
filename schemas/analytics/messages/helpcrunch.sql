-- analytics.messages, HelpCrunch part: one row per message of helpcrunch.messages.
-- `tech` messages (status changes, rating requests) are system messages; private notes stay agent messages
-- marked is_internal (the customer never sees them); automated broadcasts (trigger, auto chat, auto email)
-- are bot messages; manual broadcasts are the agent's own.
SELECT
    CAST('helpcrunch' AS VARCHAR) AS source,
    CAST(m.id AS VARCHAR) AS message_id,
    CAST(m.chat AS VARCHAR) AS conversation_id,
    m.created_at AS sent_at,
    CAST(CASE
        WHEN m.type = 'tech' THEN 'system'
        WHEN m."from" = 'customer' THEN 'customer'
        WHEN m.broadcast_type IN ('trigger', 'auto chat', 'auto email') THEN 'bot'
        WHEN m."from" = 'agent' THEN 'agent'
        ELSE 'system'
    END AS VARCHAR) AS sender_kind,
    CAST(CASE WHEN m."from" = 'agent' AND COALESCE(m.type, '') <> 'tech' THEN m.agent__id END AS VARCHAR) AS agent_id,
    CAST('chat' AS VARCHAR) AS channel,
    CAST(m.type AS VARCHAR) AS message_type,
    COALESCE(m.type = 'private', FALSE) AS is_internal,
    CAST(m.text AS VARCHAR) AS text
FROM helpcrunch.messages AS m
