-- serving.top_pages_daily: per tracking ID, UTC day and page: page views, unique users,
-- entrances (sessions that started on the page) and page_rank (1 = most viewed that day).
-- All columns of batch.pages_daily, only for the days batch.coverage says batch covers completely
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
    SELECT tracking_id, event_date, page_url, pageviews, users_sketch, users, entrances, page_rank,
           logic_version, computed_at
    FROM ${batch}.pages_daily
  )
SELECT d.*
FROM days d
CROSS JOIN watermark w
WHERE d.event_date < CAST(w.covered_until AT TIME ZONE 'UTC' AS date)
