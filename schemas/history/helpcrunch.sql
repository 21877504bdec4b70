-- history.conversation_versions, HelpCrunch part: what a version of a chat is (its status as the API spells it,
-- its assignee and rating), read from the merged helpcrunch.chats after each load. observed_at is the time of
-- the load that wrote the chat's current row (dlt's load id is that time in unix seconds).
SELECT
    CAST('helpcrunch' AS VARCHAR) AS source,
    CAST(c.id AS VARCHAR) AS conversation_id,
    CAST(c.status AS VARCHAR) AS status_raw,
    CAST(c.assignee__id AS VARCHAR) AS agent_id,
    CAST(lower(c.rating) AS VARCHAR) AS rating,
    CAST(NULL AS BOOLEAN) AS handed_over,
    c.created_at AS started_at,
    CASE WHEN {{ status c.status }} = 'closed' THEN c.closed_at END AS closed_at,
    to_timestamp(CAST(c._dlt_load_id AS DOUBLE PRECISION)) AS observed_at
FROM helpcrunch.chats AS c
