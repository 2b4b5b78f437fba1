"""Issue 21: the downloads carry the new figures and a machine-readable data dictionary, a
Frictionless Data Package with a Table Schema, validated here with the `frictionless` library
against the CSV the page serves."""

import json

import pytest
from frictionless import Package, validate

from cases.transparency.definitions import METRICS
from tests.cases.transparency_world import busy_april, records, refreshed  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_csv_validates_against_its_frictionless_table_schema(client, busy_april, tmp_path):  # noqa: F811
    query = {"start": "2026-03", "end": "2026-04", "district": "3"}
    descriptor = client.get("/transparency/datapackage.json", query).json()
    assert descriptor["resources"][0]["path"].startswith("http://testserver/transparency/")
    csv = client.get("/transparency/metrics.csv", query).content
    (tmp_path / "metrics.csv").write_bytes(csv)
    descriptor["resources"][0]["path"] = "metrics.csv"
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor))

    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]

    package = Package(str(tmp_path / "datapackage.json"))
    rows = package.get_resource("figures").read_rows()
    metrics = {row["metric"] for row in rows}
    # The new figures are in the download.
    assert {"coverage", "police_involvement", "involuntary_holds", "equity_race"} <= metrics
    assert any(row["suppressed"] is True and row["count"] is None for row in rows)
    defined = {row["key"] for row in package.get_resource("metrics").read_rows()}
    assert defined == set(METRICS)


def test_a_broken_csv_fails_the_schema(client, busy_april, tmp_path):  # noqa: F811
    """The check can fail: a count that is not a number breaks it."""
    descriptor = client.get("/transparency/datapackage.json").json()
    csv = client.get("/transparency/metrics.csv").content.decode()
    lines = csv.splitlines()
    head = lines[0].split(",")
    cells = lines[1].split(",")
    cells[head.index("count")] = "many"
    (tmp_path / "metrics.csv").write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]))
    descriptor["resources"][0]["path"] = "metrics.csv"
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor))
    assert not validate(str(tmp_path / "datapackage.json")).valid


def test_the_json_download_names_its_data_dictionary(client, busy_april):  # noqa: F811
    body = client.get("/transparency/metrics.json").json()
    assert body["data_dictionary"] == "http://testserver/transparency/datapackage.json"
    assert {m["key"] for m in body["metrics"]} == set(METRICS)
