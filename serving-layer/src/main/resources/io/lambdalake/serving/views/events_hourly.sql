-- serving.events_hourly: events per tracking ID, UTC hour and event name, batch and speed merged.
--
-- Hours before batch.coverage's covered_until (row 'events_hourly') come from batch.events_hourly,
-- hours from covered_until on from speed.events_hourly; without a coverage row every hour comes
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
    SELECT tracking_id, event_date, hour, event_name, events, users_sketch, value_sum,
           valued_events, logic_version, computed_at
    FROM ${speed}.events_hourly
  ),
  watermark AS (
    SELECT max(covered_until) AS covered_until
    FROM ${batch}.coverage
    WHERE view = 'events_hourly'
  ),
  batch_rows AS (
    SELECT tracking_id, event_date, hour, event_name, events, users_sketch, value_sum,
           valued_events, logic_version, computed_at
    FROM ${batch}.events_hourly
  )
SELECT b.tracking_id, b.event_date, b.hour, b.event_name, b.events, b.users_sketch, b.value_sum,
       b.valued_events, b.logic_version, b.computed_at, 'batch' AS layer
FROM batch_rows b
CROSS JOIN watermark w
WHERE b.hour < w.covered_until
UNION ALL
SELECT s.tracking_id, s.event_date, s.hour, s.event_name, s.events, s.users_sketch, s.value_sum,
       s.valued_events, s.logic_version, s.computed_at, 'speed' AS layer
FROM speed_rows s
CROSS JOIN watermark w
WHERE w.covered_until IS NULL OR s.hour >= w.covered_until
