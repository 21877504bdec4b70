-- analytics.conversations, HelpCrunch part: one row per chat (helpcrunch.chats), with the columns the chat
-- itself holds; 20_conversations.sql adds what the messages tell, the same way for every source.
-- HelpCrunch's API has no channel per chat: every chat is channel 'chat' (emails inside a chat keep
-- message_type 'email' in analytics.messages). {{ status x }} is the documented mapping of HelpCrunch's status
-- spellings to one normalized value (schemas/analytics/definitions.yaml, `status_mapping`). A chat counts as
-- closed only while its status is closed.
SELECT
    CAST('helpcrunch' AS VARCHAR) AS source,
    CAST(c.id AS VARCHAR) AS conversation_id,
    CAST('chat' AS VARCHAR) AS channel,
    CAST(c.customer__id AS VARCHAR) AS customer_id,
    CAST(COALESCE(c.assignee__id, c.last_communicated_agent_id) AS VARCHAR) AS agent_id,
    CAST({{ optional c.department__id from helpcrunch.chats }} AS VARCHAR) AS department_id,
    c.created_at AS started_at,
    CASE WHEN {{ status c.status }} = 'closed' THEN c.closed_at END AS closed_at,
    {{ status c.status }} AS status,
    CAST(c.status AS VARCHAR) AS status_raw,
    CAST(lower(c.rating) AS VARCHAR) AS rating,
    CAST(NULL AS BOOLEAN) AS handover_reported
FROM helpcrunch.chats AS c
