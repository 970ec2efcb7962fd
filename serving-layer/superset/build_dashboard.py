#!/usr/bin/env python3
"""Writes lambda-lake's Superset dashboard (export format v1) into lake_dashboard/.

The YAML files are checked in; this script is how they were made. Import them with
`zip -r lake-dashboard.zip lake_dashboard` and Superset's Dashboards > Import (or
`superset import-dashboards -p lake-dashboard.zip -u admin`). See docs/superset.md.
"""
import os
import shutil

import yaml

DATABASE = "6f3c2a10-1f51-4d6e-9a0b-6c1a4a1e0001"
EVENTS_DAILY = "6f3c2a10-1f51-4d6e-9a0b-6c1a4a1e0101"
TOP_PAGES = "6f3c2a10-1f51-4d6e-9a0b-6c1a4a1e0102"
DASHBOARD = "6f3c2a10-1f51-4d6e-9a0b-6c1a4a1e0201"
USERS = "cardinality(merge(CAST(users_sketch AS HyperLogLog)))"


def column(name, kind, dttm=False):
    return {
        "column_name": name, "verbose_name": None, "is_dttm": dttm, "is_active": True,
        "type": kind, "advanced_data_type": None, "groupby": True, "filterable": True,
        "expression": None, "description": None, "python_date_format": None, "extra": {},
    }


def metric(name, label, expression, description):
    return {
        "metric_name": name, "verbose_name": label, "metric_type": None,
        "expression": expression, "description": description, "d3format": None,
        "currency": None, "extra": {}, "warning_text": None,
    }


def dataset(uuid, table, dttm, columns, metrics, description):
    return {
        "table_name": table, "main_dttm_col": dttm, "description": description,
        "default_endpoint": None, "offset": 0, "cache_timeout": None, "schema": "serving",
        "catalog": None, "sql": None, "params": None, "template_params": None,
        "filter_select_enabled": True, "fetch_values_predicate": None, "extra": None,
        "normalize_columns": False, "always_filter_main_dttm": False, "uuid": uuid,
        "metrics": metrics, "columns": columns, "version": "1.0.0", "database_uuid": DATABASE,
    }


def chart(uuid, name, viz, dataset_uuid, params, description):
    base = {"viz_type": viz, "adhoc_filters": [], "time_range": "Last month",
            "datasource": f"{dataset_uuid}__table"}
    base.update(params)
    return {
        "slice_name": name, "description": description, "certified_by": None,
        "certification_details": None, "viz_type": viz, "params": base, "query_context": None,
        "cache_timeout": None, "uuid": uuid, "version": "1.0.0", "dataset_uuid": dataset_uuid,
    }


CHARTS = [
    chart("6f3c2a10-1f51-4d6e-9a0b-6c1a4a1e0301", "Events per day", "echarts_timeseries_line",
          EVENTS_DAILY,
          {"x_axis": "period_start", "time_grain_sqla": "P1D", "metrics": ["events"],
           "groupby": ["event_name"], "row_limit": 10000, "show_legend": True},
          "Events per UTC day and event name (serving.events_daily: batch and speed merged)."),
    chart("6f3c2a10-1f51-4d6e-9a0b-6c1a4a1e0302", "Unique users per day", "echarts_timeseries_line",
          EVENTS_DAILY,
          {"x_axis": "period_start", "time_grain_sqla": "P1D", "metrics": ["users"],
           "groupby": [], "row_limit": 10000},
          "Users per day, HyperLogLog sketches merged (about 1.6% standard error)."),
    chart("6f3c2a10-1f51-4d6e-9a0b-6c1a4a1e0303", "Unique users in the range", "big_number_total",
          EVENTS_DAILY, {"metric": "users", "subheader": "unique users, all days merged"},
          "One user counts once over the whole range: the daily sketches are merged, not summed."),
    chart("6f3c2a10-1f51-4d6e-9a0b-6c1a4a1e0304", "Top pages", "table", TOP_PAGES,
          {"query_mode": "aggregate", "groupby": ["page_url"], "metrics": ["pageviews", "users"],
           "all_columns": [], "percent_metrics": [], "order_desc": True,
           "timeseries_limit_metric": "pageviews", "row_limit": 20, "server_page_length": 20},
          "Pages by views over the range (serving.top_pages_daily, days the batch layer covers)."),
]


def position():
    layout = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"children": ["GRID_ID"], "id": "ROOT_ID", "type": "ROOT"},
        "HEADER_ID": {"id": "HEADER_ID", "meta": {"text": "lambda-lake: merchants"}, "type": "HEADER"},
        "GRID_ID": {"children": ["ROW-1", "ROW-2"], "id": "GRID_ID", "parents": ["ROOT_ID"],
                    "type": "GRID"},
    }
    rows = {"ROW-1": CHARTS[:2], "ROW-2": CHARTS[2:]}
    number = 0
    for row, charts in rows.items():
        children = []
        for item in charts:
            number += 1
            chart_id = f"CHART-{number}"
            children.append(chart_id)
            layout[chart_id] = {
                "children": [], "id": chart_id, "type": "CHART",
                "parents": ["ROOT_ID", "GRID_ID", row],
                "meta": {"chartId": number, "height": 50, "width": 6,
                         "sliceName": item["slice_name"], "uuid": item["uuid"]},
            }
        layout[row] = {"children": children, "id": row, "type": "ROW",
                       "meta": {"background": "BACKGROUND_TRANSPARENT"},
                       "parents": ["ROOT_ID", "GRID_ID"]}
    return layout


def tracking_filter():
    return {
        "id": "NATIVE_FILTER-tracking-id", "name": "Merchant tracking ID",
        "filterType": "filter_select", "type": "NATIVE_FILTER", "description": "",
        "targets": [{"datasetUuid": EVENTS_DAILY, "column": {"name": "tracking_id"}}],
        "controlValues": {"multiSelect": True, "enableEmptyFilter": True,
                          "defaultToFirstItem": True, "inverseSelection": False,
                          "searchAllOptions": True},
        "defaultDataMask": {"filterState": {}, "extraFormData": {}},
        "cascadeParentIds": [], "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
        "chartsInScope": [], "tabsInScope": [],
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.join(here, "lake_dashboard")
    shutil.rmtree(root, ignore_errors=True)
    files = {
        "metadata.yaml": {"version": "1.0.0", "type": "Dashboard",
                          "timestamp": "2026-11-22T00:00:00+00:00"},
        "databases/lake_trino.yaml": {
            "database_name": "lake (Trino)",
            "sqlalchemy_uri": "trino://lake@127.0.0.1:18080/lake",
            "cache_timeout": None, "expose_in_sqllab": True, "allow_run_async": False,
            "allow_ctas": False, "allow_cvas": False, "allow_dml": False,
            "allow_file_upload": False, "extra": {"allows_virtual_table_explore": True},
            "uuid": DATABASE, "version": "1.0.0"},
        "datasets/lake_trino/events_daily.yaml": dataset(
            EVENTS_DAILY, "events_daily", "period_start",
            [column("tracking_id", "VARCHAR"), column("period_start", "DATE", dttm=True),
             column("event_name", "VARCHAR"), column("events", "BIGINT"),
             column("users", "BIGINT"), column("users_sketch", "VARBINARY"),
             column("value_sum", "DECIMAL(38, 4)"), column("valued_events", "BIGINT")],
            [metric("events", "Events", "SUM(events)", "Events in the selected days."),
             metric("users", "Unique users", USERS,
                    "Users over every selected row: the HyperLogLog sketches merged."),
             metric("value", "Value", "SUM(value_sum)", "Sum of event values (any currency).")],
            "Daily roll-up of serving.events_hourly (batch below the watermark, speed above)."),
        "datasets/lake_trino/top_pages_daily.yaml": dataset(
            TOP_PAGES, "top_pages_daily", "event_date",
            [column("tracking_id", "VARCHAR"), column("event_date", "DATE", dttm=True),
             column("page_url", "VARCHAR"), column("pageviews", "BIGINT"),
             column("users", "BIGINT"), column("users_sketch", "VARBINARY"),
             column("entrances", "BIGINT"), column("page_rank", "INTEGER")],
            [metric("pageviews", "Page views", "SUM(pageviews)", "Views in the selected days."),
             metric("users", "Unique users", USERS, "Users of the page over the selected days."),
             metric("entrances", "Entrances", "SUM(entrances)", "Sessions that began on the page.")],
            "Pages per UTC day, from the batch layer (days batch covers)."),
    }
    for item in CHARTS:
        name = item["slice_name"].lower().replace(" ", "_")
        files[f"charts/{name}.yaml"] = item
    filter_config = tracking_filter()
    filter_config["targets"].append({"datasetUuid": TOP_PAGES, "column": {"name": "tracking_id"}})
    files["dashboards/lambda_lake_merchants.yaml"] = {
        "dashboard_title": "lambda-lake: merchants", "description": None, "css": "",
        "slug": "lambda-lake-merchants", "certified_by": "", "certification_details": "",
        "published": True, "uuid": DASHBOARD, "position": position(),
        "metadata": {"native_filter_configuration": [filter_config],
                     "timed_refresh_immune_slices": [], "expanded_slices": {},
                     "refresh_frequency": 0, "default_filters": "{}", "color_scheme": "",
                     "label_colors": {}, "shared_label_colors": {}, "color_scheme_domain": [],
                     "cross_filters_enabled": True},
        "version": "1.0.0",
    }
    for path, content in files.items():
        target = os.path.join(root, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as out:
            yaml.safe_dump(content, out, sort_keys=False, default_flow_style=False)


if __name__ == "__main__":
    main()
