-- analytics.daily_backlog: the open backlog at the end of each local day, per source whose API records
-- closing (HelpCrunch), key (day, source). Every day from the source's first conversation to today (local) has
-- a row. A conversation is open from its start until its closed_at; one with no closed_at (still open, or
-- re-opened since) is open up to now. Empty chats (status `empty`: no message was ever written) are left out.
WITH lifecycle AS (
    SELECT source, day AS opened_day, CAST(closed_at AT TIME ZONE {{ timezone }} AS DATE) AS closed_day
    FROM analytics.conversations
    WHERE source IN (SELECT DISTINCT source FROM analytics.conversations WHERE closed_at IS NOT NULL)
      AND day IS NOT NULL AND COALESCE(status, '') <> 'empty'
),
bounds AS (
    SELECT source, MIN(opened_day) AS first_day FROM lifecycle GROUP BY source
),
days AS (
    SELECT b.source, CAST(g.d AS DATE) AS day
    FROM bounds AS b
    CROSS JOIN generate_series(CAST((SELECT MIN(first_day) FROM bounds) AS TIMESTAMP),
                               CAST(CAST(now() AT TIME ZONE {{ timezone }} AS DATE) AS TIMESTAMP),
                               INTERVAL '1 day') AS g(d)
    WHERE CAST(g.d AS DATE) >= b.first_day
),
opened AS (
    SELECT source, opened_day AS day, COUNT(*) AS n FROM lifecycle GROUP BY source, opened_day
),
closed AS (
    SELECT source, closed_day AS day, COUNT(*) AS n FROM lifecycle WHERE closed_day IS NOT NULL
    GROUP BY source, closed_day
)
SELECT
    d.day,
    d.source,
    COALESCE(o.n, 0) AS opened_conversations,
    COALESCE(c.n, 0) AS closed_conversations,
    CAST(SUM(COALESCE(o.n, 0) - COALESCE(c.n, 0)) OVER (PARTITION BY d.source ORDER BY d.day) AS BIGINT)
        AS open_conversations
FROM days AS d
LEFT JOIN opened AS o ON o.source = d.source AND o.day = d.day
LEFT JOIN closed AS c ON c.source = d.source AND c.day = d.day
