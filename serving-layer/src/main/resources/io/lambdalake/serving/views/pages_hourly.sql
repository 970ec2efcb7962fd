-- serving.pages_hourly: page views per tracking ID, UTC hour and page (the URL without query and
-- fragment), batch and speed merged.
--
-- Hours before batch.coverage's covered_until (row 'pages_hourly') come from batch.pages_hourly,
-- hours from covered_until on from speed.pages_hourly; without a coverage row every hour comes
-- from speed. `layer` says which. Each hour is counted once and none is missing, also while the
-- batch job moves covered_until: the WITH clauses are written in the order Trino reads the tables'
-- snapshots (speed, then the coverage, then batch; Trino resolves WITH queries in order and reads
-- one snapshot per table and query), and the writers keep the matching promises: the batch job
-- commits its days before it moves the coverage, the speed job drops only hours behind a coverage
-- that was already committed. docs/serving.md explains why that order is the safe one.
--
-- users_sketch is Trino's HyperLogLog (Airlift, byte-identical with approx_set): unique users over
-- any set of rows are cardinality(merge(CAST(users_sketch AS HyperLogLog))).
WITH
  speed_rows AS (
    SELECT tracking_id, event_date, hour, page_url, pageviews, users_sketch, logic_version,
           computed_at
    FROM ${speed}.pages_hourly
  ),
  watermark AS (
    SELECT max(covered_until) AS covered_until
    FROM ${batch}.coverage
    WHERE view = 'pages_hourly'
  ),
  batch_rows AS (
    SELECT tracking_id, event_date, hour, page_url, pageviews, users_sketch, logic_version,
           computed_at
    FROM ${batch}.pages_hourly
  )
SELECT b.tracking_id, b.event_date, b.hour, b.page_url, b.pageviews, b.users_sketch,
       b.logic_version, b.computed_at, 'batch' AS layer
FROM batch_rows b
CROSS JOIN watermark w
WHERE b.hour < w.covered_until
UNION ALL
SELECT s.tracking_id, s.event_date, s.hour, s.page_url, s.pageviews, s.users_sketch,
       s.logic_version, s.computed_at, 'speed' AS layer
FROM speed_rows s
CROSS JOIN watermark w
WHERE w.covered_until IS NULL OR s.hour >= w.covered_until
