-- analytics.departments: one row per department of any source that has them (HelpCrunch departments, Conpeek
-- projects), key (source, department_id). Named from the source's own list when it has one (listed = TRUE),
-- else from the newest record; a department_id of analytics.conversations missing from both is here with a
-- NULL name, so every department_id there joins to a row here.
WITH named AS (
    SELECT
        d.source,
        d.department_id,
        d.department_name,
        d.listed,
        ROW_NUMBER() OVER (PARTITION BY d.source, d.department_id
                           ORDER BY d.listed DESC, d.seen_at DESC NULLS LAST, d.department_name) AS n
    FROM {{ parts.departments }} AS d
    WHERE d.department_id IS NOT NULL
),
seen AS (
    SELECT DISTINCT source, department_id FROM analytics.conversations WHERE department_id IS NOT NULL
)
SELECT source, department_id, department_name, listed
FROM named
WHERE n = 1
UNION ALL
SELECT s.source, s.department_id, CAST(NULL AS VARCHAR), FALSE
FROM seen AS s
WHERE NOT EXISTS (SELECT 1 FROM named AS d WHERE d.source = s.source AND d.department_id = s.department_id)
