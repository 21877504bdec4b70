-- analytics.agents: one row per agent of any source that has them, key (source, agent_id). The name and role
-- come from the source's own agent list when it has one (listed = TRUE), else from the newest record that
-- named the agent; agents that appear only as an id in analytics.conversations or analytics.messages are here
-- too, with NULL names, so every agent_id there joins to a row here.
WITH named AS (
    SELECT
        a.source,
        a.agent_id,
        a.agent_name,
        a.agent_role,
        a.listed,
        ROW_NUMBER() OVER (PARTITION BY a.source, a.agent_id
                           ORDER BY a.listed DESC, a.seen_at DESC NULLS LAST, a.agent_name) AS n
    FROM {{ parts.agents }} AS a
    WHERE a.agent_id IS NOT NULL
),
seen AS (
    SELECT source, agent_id FROM analytics.conversations WHERE agent_id IS NOT NULL
    UNION
    SELECT source, agent_id FROM analytics.messages WHERE agent_id IS NOT NULL
)
SELECT source, agent_id, agent_name, agent_role, listed
FROM named
WHERE n = 1
UNION ALL
SELECT s.source, s.agent_id, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), FALSE
FROM seen AS s
WHERE NOT EXISTS (SELECT 1 FROM named AS a WHERE a.source = s.source AND a.agent_id = s.agent_id)
