"""The transparency dashboard's public page and its downloads, and the staff version in the
admin."""

import csv
import io
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.services.transparency import transparency_refresh
from cases.transparency.definitions import METRICS
from tests.cases.transparency_world import ABQ, at, call, figures, find

pytestmark = pytest.mark.django_db


# --- the public page and its downloads ---------------------------------------------------------


def test_a_month_with_fewer_than_10_people_shows_only_fewer_than_10(client, busy_april):
    body = figures(client, start="2026-03", end="2026-03", district="3")
    march = [r for r in body["figures"] if r["month"] == "2026-03"]
    hidden = [r for r in march if r["suppressed"]]

    assert len(hidden) > 20
    assert {r["value"] for r in hidden} == {"fewer than 10"}
    assert all(r["count"] is None and r["median_seconds"] is None for r in hidden)
    # What is shown is zero: about no one.
    assert all(r["count"] == 0 for r in march if not r["suppressed"])
    assert find(body, "calls_by_source", month="2026-03", dimension="hotline")["value"] == "0"


def test_large_figures_are_published_and_a_small_district_hides_another(client, busy_april):
    district_3 = figures(client, start="2026-04", end="2026-04", district="3")
    district_5 = figures(client, start="2026-04", end="2026-04", district="5")
    everyone = figures(client, start="2026-04", end="2026-04")

    assert find(district_3, "calls_received")["count"] == 30
    assert find(district_5, "calls_received")["count"] == 12
    assert find(everyone, "calls_received")["count"] == 42
    assert find(everyone, "calls_by_source", dimension="911")["count"] == 28
    assert find(everyone, "calls_by_source", dimension="311")["count"] == 14
    # District 5's 8 calls from 911 are too few; district 3's 20 would give them away.
    assert find(district_5, "calls_by_source", dimension="911")["suppressed"]
    assert find(district_3, "calls_by_source", dimension="911")["suppressed"]
    assert find(district_3, "calls_by_source", dimension="hotline")["value"] == "0"
    assert find(district_3, "response_time")["median_seconds"] == pytest.approx(19.5 * 60)


def test_the_filters_choose_months_and_district(client, busy_april):
    body = figures(client, start="2026-04", end="2026-04", district="5")
    assert {r["month"] for r in body["figures"]} == {"2026-04"}
    assert {r["district"] for r in body["figures"]} == {"5"}
    assert (body["start"], body["end"], body["district"]) == ("2026-04", "2026-04", "5")
    body = figures(client, start="2026-02", end="2026-04")
    assert {r["month"] for r in body["figures"]} == {"2026-02", "2026-03", "2026-04"}
    assert {r["district"] for r in body["figures"]} == {"*"}


def test_a_bad_query_is_refused_with_the_error_shape(client, busy_april):
    response = client.get("/transparency/metrics.json", {"start": "March"})
    assert response.status_code == 400
    assert "start" in response.json()["error"]["fields"]
    assert client.get("/transparency/", {"end": "2026-13"}).status_code == 400


def test_the_csv_has_the_same_figures_as_the_json(client, busy_april):
    query = {"start": "2026-03", "end": "2026-04", "district": "3"}
    body = figures(client, **query)
    response = client.get("/transparency/metrics.csv", query)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(body["figures"])
    for row, record in zip(rows, body["figures"], strict=True):
        assert row["metric"] == record["metric"] and row["value"] == record["value"]
        assert row["count"] == ("" if record["count"] is None else str(record["count"]))


def test_the_public_page_shows_every_chart_with_its_table_and_definition(client, busy_april):
    response = client.get("/transparency/", {"start": "2026-03", "end": "2026-04"})
    html = response.content.decode()

    assert response.status_code == 200
    charts = html.count('<figure class="metric"')
    assert charts >= len(METRICS)
    assert html.count('<details class="table-view">') == charts
    assert html.count("<table>") == charts
    assert html.count("/transparency/definitions/#") == charts + 1  # and the district map's
    assert "fewer than 10" in html and "<svg" in html
    assert "<script" not in html and "onclick" not in html
    assert "/transparency/metrics.csv?start=2026-03&amp;end=2026-04" in html
    assert "Unm Hospital" not in html  # one transport: its destination is not named
    assert "Other destinations" in html


def test_the_definitions_page_has_an_anchor_for_every_metric(client):
    html = client.get("/transparency/definitions/").content.decode()
    for definition in METRICS.values():
        assert f'id="{definition.anchor}"' in html


def test_the_public_page_runs_the_same_queries_whatever_the_range(client, busy_april):
    counts = []
    for query in (
        {"start": "2026-03", "end": "2026-03"},
        {"start": "2026-02", "end": "2026-04"},
        {"start": "2026-04", "end": "2026-04", "district": "5"},
        {},
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/transparency/", query).status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1 and counts[0] <= 4


# --- the staff version -------------------------------------------------------------------------

STAFF_URL = "/admin/cases/metricrollup/"


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "admin_user"])
def test_staff_see_unsuppressed_figures_and_their_freshness(client, request, persona, refreshed):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(STAFF_URL, {"start": "2026-03", "end": "2026-03", "district": "3"})
    html = response.content.decode()

    assert response.status_code == 200
    assert "18:00" in html  # March's median response time, from 3 calls
    assert "Unm Hospital" in html
    assert "Data as of" in html
    assert refreshed.finished_at.astimezone(ABQ).strftime("%Y-%m-%d %H:%M") in html


def test_the_public_page_hides_what_the_staff_page_shows(client, refreshed):
    html = client.get(
        "/transparency/", {"start": "2026-03", "end": "2026-03", "district": "3"}
    ).content.decode()
    # The data's freshness is a <time> of the refresh, which reads "18:00" when the refresh
    # ran at 6 pm: leave it out, so only a figure can match.
    shown = re.sub(r"<time\b[^>]*>.*?</time>", "", html, flags=re.DOTALL)
    assert "18:00" not in shown  # March's median response time, shown to staff only
    assert "fewer than 10" in html


@pytest.mark.parametrize("persona", ["partner_a", "responder", "outsider"])
def test_others_cannot_open_the_staff_page(client, request, persona, refreshed):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(STAFF_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_anonymous_visitor_cannot_open_the_staff_page(client, refreshed):
    response = client.get(STAFF_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_can_ask_for_a_refresh(
    client, supervisor, refreshed, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("cases.tasks.refresh_transparency.delay", lambda **kw: queued.append(kw))
    client.force_login(supervisor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(STAFF_URL, {"refresh": "1"})

    assert response.status_code == 302
    assert queued == [{"full": True}]


def test_the_json_names_each_metric_with_its_definition(client, refreshed):
    body = json.loads(client.get("/transparency/metrics.json").content)
    assert {m["key"] for m in body["metrics"]} == set(METRICS)
    assert all("/transparency/definitions/#" in m["definition"] for m in body["metrics"])
    assert body["refreshed_at"]


def test_a_repeated_query_comes_from_the_cache_until_the_next_refresh(client, busy_april):
    query = {"start": "2026-04", "end": "2026-04", "district": "3"}
    first = figures(client, **query)
    with CaptureQueriesContext(connection) as queries:
        again = figures(client, **query)
    assert again == first
    assert len(queries) == 1  # the last refresh: the cache key

    for day in range(5):
        call(at(4, 20 + day, 9))
    transparency_refresh(full=True)

    assert find(figures(client, **query), "calls_received")["count"] == 35
