-- analytics.daily_kpis: the KPIs of the conversations started on one local day (WAREHOUSE__TIMEZONE, the
-- conversation's `day`), per source and channel, at two
-- levels: all_agents = TRUE rows cover every conversation (agent_id NULL); all_agents = FALSE rows split them
-- by the conversation's agent (agent_id NULL there: no agent). Key (day, source, channel, all_agents,
-- agent_id). Medians and percentiles do not add up across rows: read the all_agents rows for totals.
WITH c AS (
    SELECT
        day,
        source,
        channel,
        agent_id,
        customer_id,
        message_count,
        bot_message_count,
        rating,
        handed_over_to_human,
        first_response_seconds,
        first_agent_response_seconds,
        resolution_seconds
    FROM analytics.conversations
    WHERE started_at IS NOT NULL
)
SELECT
    day,
    source,
    channel,
    GROUPING(agent_id) = 1 AS all_agents,
    agent_id,
    COUNT(*) AS conversations,
    CAST(SUM(message_count) AS BIGINT) AS messages,
    COUNT(DISTINCT customer_id) AS unique_customers,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_seconds) AS median_first_response_seconds,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY first_response_seconds) AS p90_first_response_seconds,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY first_agent_response_seconds)
        AS median_first_agent_response_seconds,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_seconds) AS median_resolution_seconds,
    COUNT(*) FILTER (WHERE resolution_seconds IS NOT NULL) AS closed_conversations,
    COUNT(*) FILTER (WHERE rating = 'great') AS ratings_great,
    COUNT(*) FILTER (WHERE rating = 'average') AS ratings_average,
    COUNT(*) FILTER (WHERE rating = 'poor') AS ratings_poor,
    COUNT(*) FILTER (WHERE rating IN ('great', 'average', 'poor')) AS rated_conversations,
    CAST(COUNT(*) FILTER (WHERE rating = 'great') AS DOUBLE PRECISION)
        / NULLIF(COUNT(*) FILTER (WHERE rating IN ('great', 'average', 'poor')), 0) AS csat_share,
    COUNT(*) FILTER (WHERE bot_message_count > 0 OR handed_over_to_human) AS bot_conversations,
    COUNT(*) FILTER (WHERE handed_over_to_human) AS handed_over_conversations,
    CAST(COUNT(*) FILTER (WHERE handed_over_to_human) AS DOUBLE PRECISION)
        / NULLIF(COUNT(*) FILTER (WHERE bot_message_count > 0 OR handed_over_to_human), 0) AS handoff_rate
FROM c
GROUP BY GROUPING SETS ((day, source, channel), (day, source, channel, agent_id))
