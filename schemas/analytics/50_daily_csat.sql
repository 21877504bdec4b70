-- analytics.daily_csat: ratings of the conversations started on one local day, per source, department and
-- agent, key (day, source, department_id, agent_id) (NULL ids: no department, no agent). Only conversations
-- with a rating, so only sources that collect ratings (HelpCrunch). The counts add up across rows: sum them
-- for any total, then divide (csat_share of a total is sum(ratings_great) / sum(rated_conversations)).
SELECT
    day,
    source,
    department_id,
    agent_id,
    COUNT(*) AS rated_conversations,
    COUNT(*) FILTER (WHERE rating = 'great') AS ratings_great,
    COUNT(*) FILTER (WHERE rating = 'average') AS ratings_average,
    COUNT(*) FILTER (WHERE rating = 'poor') AS ratings_poor,
    CAST(COUNT(*) FILTER (WHERE rating = 'great') AS DOUBLE PRECISION) / COUNT(*) AS csat_share
FROM analytics.conversations
WHERE rating IN ('great', 'average', 'poor') AND day IS NOT NULL
GROUP BY day, source, department_id, agent_id
