-- serving.traffic_daily: per tracking ID, UTC day, traffic source, medium, campaign, device
-- class and browser (those of a session's first event): sessions, bounced sessions, events, users.
-- All columns of batch.traffic_daily, only for the days batch.coverage says batch covers completely
-- (event_date before the day of covered_until of 'events_hourly'): these views come from the
-- batch layer alone (sessions need the whole day), so an open day has no row yet.
-- The coverage is read before the table (WITH order), so a day the batch job committed but has
-- not yet covered stays out, and a covered day is always there.
WITH
  watermark AS (
    SELECT max(covered_until) AS covered_until
    FROM ${batch}.coverage
    WHERE view = 'events_hourly'
  ),
  days AS (
    SELECT tracking_id, event_date, traffic_source, traffic_medium, traffic_campaign, device_class,
           browser, sessions, bounced_sessions, events, users_sketch, users, logic_version,
           computed_at
    FROM ${batch}.traffic_daily
  )
SELECT d.*
FROM days d
CROSS JOIN watermark w
WHERE d.event_date < CAST(w.covered_until AT TIME ZONE 'UTC' AS date)
