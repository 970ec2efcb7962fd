-- The batch views of one day, in DuckDB, as the single-machine reference of scripts/bench batch.
-- Same definitions as the batch job (HourlyViews, DailyViews); unique users as DuckDB's own
-- HyperLogLog estimate, since it has no mergeable sketch column. ${input} and ${output} are
-- replaced by BatchBenchmark. Statements end with a semicolon at the end of a line.
CREATE TEMP TABLE counted AS
SELECT * FROM read_parquet('${input}', hive_partitioning = true) WHERE NOT is_bot;

COPY (
  SELECT tracking_id, date_trunc('hour', event_time) AS hour, event_name, count(*) AS events,
         approx_count_distinct(coalesce(user_id, client_id)) AS users,
         sum(value) AS value_sum, count(value) AS valued_events
  FROM counted GROUP BY ALL
) TO '${output}/events_hourly.parquet' (FORMAT parquet);

COPY (
  SELECT tracking_id, date_trunc('hour', event_time) AS hour,
         regexp_replace(page_url, '[?#].*$', '') AS page_url, count(*) AS pageviews,
         approx_count_distinct(coalesce(user_id, client_id)) AS users
  FROM counted WHERE event_name = 'page_view' AND page_url IS NOT NULL GROUP BY ALL
) TO '${output}/pages_hourly.parquet' (FORMAT parquet);

CREATE TEMP TABLE sessionized AS
WITH gaps AS (
  SELECT *, regexp_replace(page_url, '[?#].*$', '') AS page,
         CASE WHEN lag(event_time) OVER client IS NULL
                OR event_time - lag(event_time) OVER client > INTERVAL 30 MINUTE
              THEN 1 ELSE 0 END AS starts_session
  FROM counted
  WINDOW client AS (PARTITION BY tracking_id, client_id ORDER BY event_time, event_id)
), numbered AS (
  SELECT *, sum(starts_session) OVER (PARTITION BY tracking_id, client_id ORDER BY event_time, event_id
                                      ROWS UNBOUNDED PRECEDING) AS session_number
  FROM gaps
)
SELECT *,
       coalesce(first_value(traffic_source) OVER visit, '(none)') AS session_traffic_source,
       coalesce(first_value(traffic_medium) OVER visit, '(none)') AS session_traffic_medium,
       coalesce(first_value(traffic_campaign) OVER visit, '(none)') AS session_traffic_campaign,
       coalesce(first_value(device_class) OVER visit, '(none)') AS session_device_class,
       coalesce(first_value(browser) OVER visit, '(none)') AS session_browser,
       first_value(CASE WHEN event_name = 'page_view' THEN page END IGNORE NULLS) OVER visit AS entrance_page
FROM numbered
WINDOW visit AS (PARTITION BY tracking_id, client_id, session_number ORDER BY event_time, event_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);

CREATE TEMP TABLE sessions AS
SELECT tracking_id, client_id, session_number, session_traffic_source, session_traffic_medium,
       session_traffic_campaign, session_device_class, session_browser, entrance_page,
       count(*) AS session_events,
       CAST(floor(epoch(max(event_time)) - epoch(min(event_time))) AS BIGINT) AS session_seconds,
       CASE WHEN count(*) = 1 THEN 1 ELSE 0 END AS bounced
FROM sessionized GROUP BY ALL;

COPY (
  WITH events AS (
    SELECT tracking_id, event_date, count(*) AS events,
           sum(CASE WHEN event_name = 'page_view' AND page_url IS NOT NULL THEN 1 ELSE 0 END) AS pageviews,
           approx_count_distinct(coalesce(user_id, client_id)) AS users,
           sum(CASE WHEN event_name = 'purchase' THEN 1 ELSE 0 END) AS purchases
    FROM sessionized GROUP BY ALL
  ), totals AS (
    SELECT tracking_id, count(*) AS sessions, sum(bounced) AS bounced_sessions,
           sum(session_seconds) AS session_seconds
    FROM sessions GROUP BY ALL
  ), revenue AS (
    SELECT tracking_id, map_from_entries(list((currency, amount) ORDER BY currency)) AS revenue
    FROM (SELECT tracking_id, currency, sum(value) AS amount FROM sessionized
          WHERE event_name = 'purchase' AND value IS NOT NULL AND currency IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
  )
  SELECT events.*, sessions, bounced_sessions, bounced_sessions / sessions AS bounce_rate,
         session_seconds, coalesce(revenue, MAP {}) AS revenue
  FROM events JOIN totals USING (tracking_id) LEFT JOIN revenue USING (tracking_id)
) TO '${output}/events_daily.parquet' (FORMAT parquet);

COPY (
  WITH pages AS (
    SELECT tracking_id, event_date, page AS page_url, count(*) AS pageviews,
           approx_count_distinct(coalesce(user_id, client_id)) AS users
    FROM sessionized WHERE event_name = 'page_view' AND page_url IS NOT NULL GROUP BY ALL
  ), entrances AS (
    SELECT tracking_id, entrance_page AS page_url, count(*) AS entrances
    FROM sessions WHERE entrance_page IS NOT NULL GROUP BY ALL
  )
  SELECT pages.*, coalesce(entrances, 0) AS entrances,
         row_number() OVER (PARTITION BY tracking_id ORDER BY pageviews DESC, page_url) AS page_rank
  FROM pages LEFT JOIN entrances USING (tracking_id, page_url)
) TO '${output}/pages_daily.parquet' (FORMAT parquet);

COPY (
  WITH events AS (
    SELECT tracking_id, event_date, session_traffic_source AS traffic_source,
           session_traffic_medium AS traffic_medium, session_traffic_campaign AS traffic_campaign,
           session_device_class AS device_class, session_browser AS browser, count(*) AS events,
           approx_count_distinct(coalesce(user_id, client_id)) AS users
    FROM sessionized GROUP BY ALL
  ), visits AS (
    SELECT tracking_id, session_traffic_source AS traffic_source,
           session_traffic_medium AS traffic_medium, session_traffic_campaign AS traffic_campaign,
           session_device_class AS device_class, session_browser AS browser,
           count(*) AS sessions, sum(bounced) AS bounced_sessions
    FROM sessions GROUP BY ALL
  )
  SELECT * FROM events
  JOIN visits USING (tracking_id, traffic_source, traffic_medium, traffic_campaign, device_class, browser)
) TO '${output}/traffic_daily.parquet' (FORMAT parquet);
