-- analytics.departments, Conpeek part: a Conpeek project (a queue such as "Reklamacje i Zwroty") is the
-- department of the conversations opened in it; named as in the newest record. Conpeek has no project list.
SELECT
    CAST('conpeek' AS VARCHAR) AS source,
    CAST({{ optional o.project_id from conpeek.conversation_statistics_opened }} AS VARCHAR) AS department_id,
    CAST({{ optional o.project_name from conpeek.conversation_statistics_opened }} AS VARCHAR) AS department_name,
    FALSE AS listed,
    o.ts AS seen_at
FROM conpeek.conversation_statistics_opened AS o
WHERE {{ optional o.project_id from conpeek.conversation_statistics_opened }} IS NOT NULL
