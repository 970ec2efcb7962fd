-- serving.sessions_daily: per tracking ID and UTC day: events, page views, unique users,
-- sessions (a client's run of events with no gap over 30 minutes, cut at midnight UTC), bounced
-- sessions (one event) and bounce rate, session seconds, purchases and revenue per currency.
-- All columns of batch.events_daily, only for the days batch.coverage says batch covers completely
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
    SELECT tracking_id, event_date, events, pageviews, users_sketch, users, sessions, bounced_sessions,
           bounce_rate, session_seconds, purchases, revenue, logic_version, computed_at
    FROM ${batch}.events_daily
  )
SELECT d.*
FROM days d
CROSS JOIN watermark w
WHERE d.event_date < CAST(w.covered_until AT TIME ZONE 'UTC' AS date)
