-- analytics.status_history: one row per version of a conversation's tracked fields (HelpCrunch chats: status,
-- assignee, rating; JAICP sessions: result, transfer), key (source, conversation_id, version). Read from
-- history.conversation_versions, which the nightly job extends after each load (pipelines/history.py).
SELECT
    h.source,
    h.conversation_id,
    h.version,
    CASE WHEN h.source = 'helpcrunch' THEN {{ status h.status_raw }} END AS status,
    h.status_raw,
    h.agent_id,
    h.rating,
    h.handed_over,
    h.valid_from,
    h.valid_to,
    h.valid_to IS NULL AS is_current,
    CAST(EXTRACT(EPOCH FROM (COALESCE(h.valid_to, now()) - h.valid_from)) AS DOUBLE PRECISION) AS seconds,
    h.valid_from AT TIME ZONE {{ timezone }} AS valid_from_local
FROM history.conversation_versions AS h
