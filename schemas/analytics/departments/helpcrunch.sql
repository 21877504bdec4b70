-- analytics.departments, HelpCrunch part: the account's department list (listed), and the departments chats
-- name, so a department deleted since keeps the name the chats last showed.
SELECT
    CAST('helpcrunch' AS VARCHAR) AS source,
    CAST(d.id AS VARCHAR) AS department_id,
    CAST(d.name AS VARCHAR) AS department_name,
    TRUE AS listed,
    CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS seen_at
FROM helpcrunch.departments AS d
UNION ALL
SELECT
    CAST('helpcrunch' AS VARCHAR) AS source,
    CAST({{ optional c.department__id from helpcrunch.chats }} AS VARCHAR) AS department_id,
    CAST({{ optional c.department__name from helpcrunch.chats }} AS VARCHAR) AS department_name,
    FALSE AS listed,
    c.created_at AS seen_at
FROM helpcrunch.chats AS c
WHERE {{ optional c.department__id from helpcrunch.chats }} IS NOT NULL
