-- analytics.reopened_conversations: one row per conversation that left the closed status again, key (source,
-- conversation_id): how often, when it was first closed and when last re-opened. From analytics.status_history,
-- so it knows only the re-openings the nightly runs saw (a chat closed and re-opened between two runs is not
-- seen; its messages may still tell).
WITH steps AS (
    SELECT
        source,
        conversation_id,
        status,
        valid_from,
        LAG(status) OVER (PARTITION BY source, conversation_id ORDER BY version) AS previous_status
    FROM analytics.status_history
    WHERE status IS NOT NULL
)
SELECT
    source,
    conversation_id,
    COUNT(*) FILTER (WHERE previous_status = 'closed' AND status <> 'closed') AS reopen_count,
    MIN(valid_from) FILTER (WHERE status = 'closed') AS first_closed_at,
    MAX(valid_from) FILTER (WHERE previous_status = 'closed' AND status <> 'closed') AS last_reopened_at
FROM steps
GROUP BY source, conversation_id
HAVING COUNT(*) FILTER (WHERE previous_status = 'closed' AND status <> 'closed') > 0
