-- serving.events_monthly: events per tracking ID, UTC calendar month and event name, rolled up
-- from serving.events_hourly (so batch and speed merged exactly as there). period_start is the
-- first day of the month. users_sketch merges the hourly sketches (the same HyperLogLog type),
-- users is its cardinality: unique users of the month, not a sum of hourly uniques.
SELECT tracking_id,
       date_trunc('month', event_date) AS period_start,
       event_name,
       sum(events) AS events,
       CAST(merge(CAST(users_sketch AS HyperLogLog)) AS varbinary) AS users_sketch,
       cardinality(merge(CAST(users_sketch AS HyperLogLog))) AS users,
       sum(value_sum) AS value_sum,
       sum(valued_events) AS valued_events
FROM ${serving}.events_hourly
GROUP BY tracking_id, date_trunc('month', event_date), event_name
