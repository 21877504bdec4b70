-- analytics.agents, HelpCrunch part: the account's agent list (listed), and the assignees chats name, so an
-- agent deleted since keeps the name the chats last showed.
SELECT
    CAST('helpcrunch' AS VARCHAR) AS source,
    CAST(a.id AS VARCHAR) AS agent_id,
    CAST(a.name AS VARCHAR) AS agent_name,
    CAST({{ optional a.role from helpcrunch.agents }} AS VARCHAR) AS agent_role,
    TRUE AS listed,
    CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS seen_at
FROM helpcrunch.agents AS a
UNION ALL
SELECT
    CAST('helpcrunch' AS VARCHAR) AS source,
    CAST(c.assignee__id AS VARCHAR) AS agent_id,
    CAST({{ optional c.assignee__name from helpcrunch.chats }} AS VARCHAR) AS agent_name,
    CAST({{ optional c.assignee__role from helpcrunch.chats }} AS VARCHAR) AS agent_role,
    FALSE AS listed,
    c.created_at AS seen_at
FROM helpcrunch.chats AS c
WHERE c.assignee__id IS NOT NULL
