-- analytics.conversations, JAICP part: one row per bot session (jaicp.sessions). A session has no closing
-- time, lifecycle status, department or rating in the Reporter API: those stay NULL; status_raw keeps the
-- session result, the one outcome the API records. `is_livechat` is JAICP's own record that the bot
-- transferred the session to a live operator.
SELECT
    CAST('jaicp' AS VARCHAR) AS source,
    CAST(s.session_id AS VARCHAR) AS conversation_id,
    CAST(s.channel_type AS VARCHAR) AS channel,
    CAST(s.client__id AS VARCHAR) AS customer_id,
    CAST(NULL AS VARCHAR) AS agent_id,
    CAST(NULL AS VARCHAR) AS department_id,
    s.start_time AS started_at,
    CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS closed_at,
    CAST(NULL AS VARCHAR) AS status,
    CAST({{ optional s.session_result from jaicp.sessions }} AS VARCHAR) AS status_raw,
    CAST(NULL AS VARCHAR) AS rating,
    CAST({{ optional s.is_livechat from jaicp.sessions }} AS BOOLEAN) AS handover_reported
FROM jaicp.sessions AS s
