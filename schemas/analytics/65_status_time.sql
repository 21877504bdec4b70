-- analytics.status_time: how long each conversation spent in each normalized status, key (source,
-- conversation_id, status): the sum over its versions in that status (a chat that went pending twice has two
-- periods), the current one counted up to now. Sources with a lifecycle status only (HelpCrunch).
SELECT
    source,
    conversation_id,
    status,
    CAST(SUM(starts_period) AS BIGINT) AS periods,
    SUM(seconds) AS seconds,
    MIN(valid_from) AS first_entered_at,
    BOOL_OR(is_current) AS is_current
FROM (
    SELECT
        source,
        conversation_id,
        status,
        valid_from,
        is_current,
        seconds,
        CASE WHEN status = LAG(status) OVER (PARTITION BY source, conversation_id ORDER BY version)
             THEN 0 ELSE 1 END AS starts_period
    FROM analytics.status_history
    WHERE status IS NOT NULL
) AS v
GROUP BY source, conversation_id, status
