-- analytics.conversations, Conpeek part: one row per conversation of conpeek.conversation_statistics_opened.
-- The conversation is the record's conversation_id (the record's own id when it has none); if a
-- conversation was opened more than once, its earliest opening record counts. Conpeek's known endpoints say
-- nothing of closing, status or rating: those stay NULL. The conversation's project (a queue such as
-- "Reklamacje i Zwroty") is its department.
SELECT
    CAST('conpeek' AS VARCHAR) AS source,
    o.conversation_key AS conversation_id,
    CAST(o.conversation_type AS VARCHAR) AS channel,
    CAST(o.peer_identifier AS VARCHAR) AS customer_id,
    CAST(o.tenant_user_id AS VARCHAR) AS agent_id,
    CAST({{ optional o.project_id from conpeek.conversation_statistics_opened }} AS VARCHAR) AS department_id,
    o.ts AS started_at,
    CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS closed_at,
    CAST(NULL AS VARCHAR) AS status,
    CAST(NULL AS VARCHAR) AS status_raw,
    CAST(NULL AS VARCHAR) AS rating,
    CAST(NULL AS BOOLEAN) AS handover_reported
FROM (
    SELECT
        r.*,
        CAST(COALESCE(r.conversation_id, r.id) AS VARCHAR) AS conversation_key,
        ROW_NUMBER() OVER (PARTITION BY COALESCE(r.conversation_id, r.id) ORDER BY r.ts, r.id) AS opening
    FROM conpeek.conversation_statistics_opened AS r
) AS o
WHERE o.opening = 1
