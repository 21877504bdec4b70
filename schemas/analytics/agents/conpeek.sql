-- analytics.agents, Conpeek part: the tenant users who opened or answered a conversation. The known endpoints
-- carry no user names or list: agent_name stays NULL and none is `listed`.
SELECT
    CAST('conpeek' AS VARCHAR) AS source,
    CAST(o.tenant_user_id AS VARCHAR) AS agent_id,
    CAST(NULL AS VARCHAR) AS agent_name,
    CAST(NULL AS VARCHAR) AS agent_role,
    FALSE AS listed,
    o.ts AS seen_at
FROM conpeek.conversation_statistics_opened AS o
WHERE o.tenant_user_id IS NOT NULL
