"""The machine-readable data dictionary of the downloads: a Frictionless Data Package
(https://specs.frictionlessdata.io/data-package/) whose Table Schema describes every column
of metrics.csv (and of the `figures` of metrics.json), and whose second resource lists every
metric with its definition, so that a city's open-data portal can ingest the figures
without reading our docs. Served at /transparency/datapackage.json.
"""

from __future__ import annotations

from cases.transparency.definitions import METRICS, SMALL_CELL, SUPPRESSED_TEXT, Kind

FIGURE_FIELDS = [
    {"name": "month", "type": "yearmonth", "description": "Calendar month, Albuquerque time."},
    {
        "name": "district",
        "type": "string",
        "description": 'Council district as CAD sends it; "*" all districts together; empty '
        "when the call had none (published as Not recorded).",
    },
    {"name": "metric", "type": "string", "description": "The figure's key (see `metrics`)."},
    {
        "name": "dimension",
        "type": "string",
        "description": "The part of a breakdown (a source, call type, hour, outcome, "
        "disposition, destination) or, for equity_* metrics, figure:group; empty otherwise.",
    },
    {
        "name": "kind",
        "type": "string",
        "constraints": {"enum": [k.value for k in Kind]},
        "description": "count, breakdown, share (count / denominator) or duration.",
    },
    {"name": "unit", "type": "string", "description": "What `count` counts."},
    {
        "name": "value",
        "type": "string",
        "description": f"The figure as the page shows it; {SUPPRESSED_TEXT!r} when suppressed.",
    },
    {
        "name": "count",
        "type": "integer",
        "constraints": {"minimum": 0},
        "description": "The count, a share's numerator, or a duration's calls measured; "
        "empty when suppressed.",
    },
    {
        "name": "denominator",
        "type": "integer",
        "constraints": {"minimum": 0},
        "description": "A share's denominator; empty for other kinds and when suppressed.",
    },
    {
        "name": "share",
        "type": "number",
        "constraints": {"minimum": 0, "maximum": 1},
        "description": "count / denominator, 4 decimals; empty when suppressed.",
    },
    {
        "name": "median_seconds",
        "type": "number",
        "description": "A duration's median in seconds; empty otherwise or when suppressed.",
    },
    {
        "name": "p90_seconds",
        "type": "number",
        "description": "A duration's 90th percentile in seconds.",
    },
    {
        "name": "suppressed",
        "type": "boolean",
        "description": f"True when the figure concerns fewer than {SMALL_CELL} people or "
        "would let one be worked out by subtraction: its numbers are left empty.",
    },
]

METRIC_FIELDS = [
    {"name": "key", "type": "string", "constraints": {"required": True, "unique": True}},
    {"name": "title", "type": "string"},
    {"name": "kind", "type": "string", "constraints": {"enum": [k.value for k in Kind]}},
    {"name": "unit", "type": "string"},
    {"name": "question", "type": "string"},
    {"name": "numerator", "type": "string"},
    {"name": "denominator", "type": "string"},
    {"name": "month_and_district", "type": "string"},
    {"name": "excluded", "type": "string"},
    {"name": "definition", "type": "string", "format": "uri"},
]


def data_package(*, figures_path: str, definitions_url: str) -> dict:
    """The descriptor; `figures_path` is where metrics.csv is (a URL, or a file name)."""
    return {
        "profile": "data-package",
        "name": "acs-transparency",
        "title": "Albuquerque Community Safety: transparency figures",
        "description": "Monthly figures by council district, small cells suppressed. "
        "Definitions: " + definitions_url,
        "licenses": [{"name": "ODC-PDDL-1.0", "title": "Open Data Commons PDDL"}],
        "resources": [
            {
                "name": "figures",
                "path": figures_path,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": FIGURE_FIELDS,
                    "primaryKey": ["month", "district", "metric", "dimension"],
                    "missingValues": [""],
                },
            },
            {
                "name": "metrics",
                "profile": "tabular-data-resource",
                "data": [
                    {
                        "key": m.key,
                        "title": m.title,
                        "kind": m.kind.value,
                        "unit": m.unit,
                        "question": m.question,
                        "numerator": m.counts,
                        "denominator": m.denominator,
                        "month_and_district": m.timestamps,
                        "excluded": m.excluded,
                        "definition": f"{definitions_url}#{m.anchor}",
                    }
                    for m in METRICS.values()
                ],
                "schema": {"fields": METRIC_FIELDS, "primaryKey": ["key"]},
            },
        ],
    }
