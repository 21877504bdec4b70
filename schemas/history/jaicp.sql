-- history.conversation_versions, JAICP part: a session's fields that change after it started are its result and
-- whether it was transferred to a live operator; read from the merged jaicp.sessions after each load.
SELECT
    CAST('jaicp' AS VARCHAR) AS source,
    CAST(s.session_id AS VARCHAR) AS conversation_id,
    CAST({{ optional s.session_result from jaicp.sessions }} AS VARCHAR) AS status_raw,
    CAST(NULL AS VARCHAR) AS agent_id,
    CAST(NULL AS VARCHAR) AS rating,
    CAST({{ optional s.is_livechat from jaicp.sessions }} AS BOOLEAN) AS handed_over,
    s.start_time AS started_at,
    CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS closed_at,
    to_timestamp(CAST(s._dlt_load_id AS DOUBLE PRECISION)) AS observed_at
FROM jaicp.sessions AS s
