-- analytics.settings: one row saying how the views were built at the last refresh: the time zone of every
-- `day` and *_local column, today's date there, and the personal-data mode of the loads. Built only together
-- with the other views.
SELECT
    CAST({{ timezone }} AS VARCHAR) AS timezone,
    CAST(now() AT TIME ZONE {{ timezone }} AS DATE) AS today,
    CAST({{ pii }} AS VARCHAR) AS pii,
    CAST({{ refreshed_at }} AS TIMESTAMP WITH TIME ZONE) AS refreshed_at
