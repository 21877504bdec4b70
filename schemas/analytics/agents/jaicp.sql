-- analytics.agents, JAICP part: the live operators who answered in a session (messages' operator_info), named
-- as in their latest answer. The Reporter API has no operator list: none is `listed`.
SELECT
    CAST('jaicp' AS VARCHAR) AS source,
    CAST({{ optional m.operator_info__id from jaicp.messages }} AS VARCHAR) AS agent_id,
    CAST(NULLIF(trim(concat_ws(' ', {{ optional m.operator_info__first_name from jaicp.messages }},
                                    {{ optional m.operator_info__last_name from jaicp.messages }})), '')
         AS VARCHAR) AS agent_name,
    CAST(NULL AS VARCHAR) AS agent_role,
    FALSE AS listed,
    m."timestamp" AS seen_at
FROM jaicp.messages AS m
WHERE {{ optional m.operator_info__id from jaicp.messages }} IS NOT NULL
