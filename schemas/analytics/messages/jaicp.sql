-- analytics.messages, JAICP part: a jaicp.messages row is one exchange, the client's phrase (`question`) and
-- the answer to it (`text_answer`), so it becomes up to two messages: `<question_id>:question` from the
-- customer and `<question_id>:answer` from the bot, or from the live operator when `operator_info__id` is set.
-- Both carry the exchange's `timestamp`; an empty phrase or answer (an event, a silent state) is no message.
-- The optional fields become columns only once some record carried them: hence {{ optional ... }}.
SELECT
    CAST('jaicp' AS VARCHAR) AS source,
    CAST(m.question_id AS VARCHAR) || ':question' AS message_id,
    CAST(m.session_id AS VARCHAR) AS conversation_id,
    m."timestamp" AS sent_at,
    CAST('customer' AS VARCHAR) AS sender_kind,
    CAST(NULL AS VARCHAR) AS agent_id,
    CAST(s.channel_type AS VARCHAR) AS channel,
    CAST('question' AS VARCHAR) AS message_type,
    FALSE AS is_internal,
    CAST({{ optional m.question from jaicp.messages }} AS VARCHAR) AS text
FROM jaicp.messages AS m
LEFT JOIN jaicp.sessions AS s ON s.session_id = m.session_id
WHERE CAST({{ optional m.question from jaicp.messages }} AS VARCHAR) <> ''
UNION ALL
SELECT
    CAST('jaicp' AS VARCHAR) AS source,
    CAST(m.question_id AS VARCHAR) || ':answer' AS message_id,
    CAST(m.session_id AS VARCHAR) AS conversation_id,
    m."timestamp" AS sent_at,
    CAST(CASE WHEN {{ optional m.operator_info__id from jaicp.messages }} IS NOT NULL THEN 'agent' ELSE 'bot' END
        AS VARCHAR) AS sender_kind,
    CAST({{ optional m.operator_info__id from jaicp.messages }} AS VARCHAR) AS agent_id,
    CAST(s.channel_type AS VARCHAR) AS channel,
    CAST('answer' AS VARCHAR) AS message_type,
    FALSE AS is_internal,
    CAST({{ optional m.text_answer from jaicp.messages }} AS VARCHAR) AS text
FROM jaicp.messages AS m
LEFT JOIN jaicp.sessions AS s ON s.session_id = m.session_id
WHERE CAST({{ optional m.text_answer from jaicp.messages }} AS VARCHAR) <> ''
